"""Mentions (issue 17): `@local` and `@"Full Name"` name one person; addresses, strangers and
ambiguous names name nobody."""

from __future__ import annotations

import pytest

from hub.services import accounts
from hub.services.mentions import find_mentions, mentioned_people


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("Vraag het @sanne.visser.", ["@sanne.visser"]),
        ('Dank @"Sanne  Visser" en @bram!', ['@"Sanne  Visser"', "@bram"]),
        ("Mail sanne@example.com of @@bram", []),
        ('Zie @"" niets', []),
    ],
)
def test_mentions_are_found_as_written(text, written):
    assert [text[m.start : m.end] for m in find_mentions(text)] == written


def test_a_mention_names_the_one_person_it_fits(session):
    sanne = accounts.create_user(session, "sanne.visser@example.com", "Sanne Visser")
    bram = accounts.create_user(session, "bram@example.com", "Bram Bos")
    accounts.create_user(session, "jan@example.com", "Jan Jansen")
    accounts.create_user(session, "jan@example.org", "Jan de Boer")
    text = 'Vraag @SANNE.visser, @"bram bos", @jan en @niemand; nog eens @"Sanne Visser".'
    assert mentioned_people(session, text) == [sanne, bram]


def test_a_percent_or_underscore_in_a_mention_matches_only_itself(session):
    accounts.create_user(session, "anna@example.com", "Anna")
    assert mentioned_people(session, "@a%a en @ann_") == []
