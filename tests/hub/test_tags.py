"""Tags (issue 17): `#tag` in a title, a body or a comment is recorded as written, edited and removed;
numbers, links and HTML entities are not tags."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hub.models import Tagging
from hub.services import accounts, groups, posts
from hub.services.errors import Invalid
from hub.services.tags import find_tags, normalize_tag


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("Storing in #Utrecht en #utrecht, #5G-netwerk.", ["utrecht", "5g-netwerk"]),
        ("ticket #1234 en issue #12", []),
        ("zie https://example.com/page#section en &#39;quotes&#39;", []),
        ("#ëvenement_2027 (#KPN)", ["ëvenement_2027", "kpn"]),
        ("##dubbel en a#b", []),
    ],
)
def test_tags_are_found_as_people_write_them(text, tags):
    assert find_tags(text) == tags


def test_a_tag_has_at_most_64_characters():
    assert normalize_tag("#" + "a" * 64) == "a" * 64
    with pytest.raises(Invalid):
        normalize_tag("a" * 65)


def test_the_tags_of_a_post_and_its_comments_follow_their_edits_and_removal(session):
    anna = accounts.create_user(session, "anna@example.com", "Anna de Vries")
    team = groups.create_group(session, "team", "Team")
    groups.add_member(session, team, anna)
    post = posts.create_post(session, team, anna, "Storing #utrecht", "Zie ook #glasvezel.")
    comment = posts.create_comment(session, post, anna, "Opgelost, #glasvezel werkt weer.")

    def recorded():
        return sorted(session.execute(select(Tagging.tag, Tagging.comment_id)).all(), key=str)

    assert recorded() == sorted([("utrecht", None), ("glasvezel", None), ("glasvezel", comment.id)], key=str)
    posts.edit_post(session, post, anna, "Storing #amersfoort", "Zonder tags.")
    posts.delete_comment(session, comment, anna)
    assert recorded() == [("amersfoort", None)]
