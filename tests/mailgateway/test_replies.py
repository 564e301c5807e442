import re

import pytest

from mailgateway import replies
from mailgateway.replies import thread_subject, visible_text


@pytest.mark.parametrize("reply", [
    # Gmail
    "Agreed, Friday works.\n\nOn Mon, Mar 3, 2025 at 10:00 AM Ann de Vries <ann@example.com> wrote:\n\n> Friday?\n",
    # Gmail, header wrapped over two lines
    "Agreed, Friday works.\n\nOn Mon, Mar 3, 2025 at 10:00 AM Ann de Vries <\nann@example.com> wrote:\n> Friday?\n",
    # Apple Mail
    "Agreed, Friday works.\n\n> On 3 Mar 2025, at 10:00, Ann de Vries <ann@example.com> wrote:\n>\n> Friday?\n",
    # Thunderbird
    "Agreed, Friday works.\n\nOn 03-03-2025 10:00, Ann de Vries wrote:\n> Friday?\n",
    # Outlook desktop
    "Agreed, Friday works.\n\n-----Original Message-----\nFrom: Ann de Vries <ann@example.com>\n"
    "Sent: Monday, March 3, 2025 10:00 AM\nTo: team@plein.example\nSubject: Friday?\n\nFriday?\n",
    # Outlook on the web
    "Agreed, Friday works.\n\n________________________________\nFrom: Ann de Vries <ann@example.com>\n"
    "Sent: Monday, March 3, 2025 10:00\nTo: team@plein.example\nSubject: Friday?\n\nFriday?\n",
    # Phones
    "Agreed, Friday works.\n\nSent from my iPhone\n\n> On 3 Mar 2025, at 10:00, Ann wrote:\n> Friday?\n",
    "Agreed, Friday works.\n\nSent from my Android\n",
    "Agreed, Friday works.\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n"
    "________________________________\nFrom: Ann\n",
    # Signature delimiter (RFC 3676)
    "Agreed, Friday works.\n\n-- \nBob Jansen\nPlein BV\n",
])
def test_english_replies_keep_only_the_new_text(reply):
    assert visible_text(reply) == "Agreed, Friday works."


@pytest.mark.parametrize("reply", [
    # Gmail
    "Vrijdag is prima.\n\nOp ma 3 mrt 2025 om 10:00 schreef Ann de Vries <ann@example.com>:\n\n> Vrijdag?\n",
    # Gmail, header wrapped over two lines
    "Vrijdag is prima.\n\nOp ma 3 mrt 2025 om 10:00 schreef Ann de Vries <\nann@example.com>:\n> Vrijdag?\n",
    # Apple Mail
    "Vrijdag is prima.\n\n> Op 3 mrt. 2025 om 10:00 heeft Ann de Vries <ann@example.com>"
    " het volgende geschreven:\n>\n> Vrijdag?\n",
    # Outlook desktop
    "Vrijdag is prima.\n\n-----Oorspronkelijk bericht-----\nVan: Ann de Vries <ann@example.com>\n"
    "Verzonden: maandag 3 maart 2025 10:00\nAan: team@plein.example\nOnderwerp: Vrijdag?\n\nVrijdag?\n",
    # Outlook without a separator line
    "Vrijdag is prima.\n\nVan: Ann de Vries <ann@example.com>\nVerzonden: maandag 3 maart 2025 10:00\n"
    "Aan: team@plein.example\nOnderwerp: Vrijdag?\n\nVrijdag?\n",
    # Phone
    "Vrijdag is prima.\n\nVerzonden vanaf mijn iPhone\n\n"
    "> Op 3 mrt. 2025 om 10:00 heeft Ann het volgende geschreven:\n",
])
def test_dutch_replies_keep_only_the_new_text(reply):
    assert visible_text(reply) == "Vrijdag is prima."


def test_inline_reply_keeps_the_quotes_it_answers_and_drops_the_rest():
    reply = "On Mon, Ann wrote:\n> Can you come?\n\nYes.\n\n> At five?\n\nNo, at six.   \n\n> Bring cake.\n"
    assert visible_text(reply) == "> Can you come?\n\nYes.\n\n> At five?\n\nNo, at six."


def test_inline_reply_below_the_authors_own_text_keeps_its_quote():
    reply = (
        "See below.\n\nOn Mon, 3 Mar 2025 at 10:00, Ann <ann@example.com> wrote:\n\n"
        "> Can you come?\n>\nYes.\n"
    )
    assert visible_text(reply) == "See below.\n\n> Can you come?\n>\nYes."


def test_bottom_post_under_a_quote_header_keeps_only_the_text_below_the_quote():
    reply = "On Mon, 3 Mar 2025 at 10:00, Ann <ann@example.com> wrote:\n> Lunch?\n> Ann\n\nSure, see you there.\n"
    assert visible_text(reply) == "Sure, see you there."


def test_a_quote_the_author_chose_stays_above_the_answer():
    assert visible_text("> Lunch?\n\nSure, see you there.\n") == "> Lunch?\n\nSure, see you there."


def test_a_quoted_line_wrapped_without_its_marker_stays_in_the_quote():
    reply = "Thanks!\n\n> Dino answered your question:\n> Shall we meet on\nFriday?\n>\n"
    assert visible_text(reply) == "Thanks!"


def test_text_after_the_quote_below_a_signature_delimiter_is_no_answer():
    reply = "Okay.\n\nAnn wrote:\n> Try it.\n>\n--\nBest regards\n\nBob\n"
    assert visible_text(reply) == "Okay."


def test_quote_header_wrapped_over_lines_with_blanks_between_is_history():
    reply = "One 1\n\nOn Thu, 31 Mar 2016 at 11:16 Ann\n\n<\nmailto:Ann <ann@example.com>\n> wrote:\n\n\nTwo 2\n"
    assert visible_text(reply) == "One 1"


@pytest.mark.parametrize("signature", [
    "\n\n______________________\nBob Jansen\nPlein BV | Utrecht\n",
    "\n\nBob Jansen\nbob@plein.example\n+31 30 123 4567\nwww.plein.example\n",
    "\n\nBob Jansen\nSent from my iPhone\n",
])
def test_signatures_without_a_delimiter_are_dropped(signature):
    assert visible_text("Agreed, Friday works." + signature) == "Agreed, Friday works."


def test_a_closing_paragraph_with_one_link_is_kept():
    text = "Agreed, Friday works.\n\nThe agenda:\nhttps://plein.example/agenda\n"
    assert visible_text(text) == text.strip()


def test_plain_text_is_left_alone_but_trailing_whitespace_is_stripped():
    text = "Op maandag hebben we overleg.\nIk schreef dat al.\nTo: everyone\n\nGroet,\nPiet  \n\n"
    assert visible_text(text) == text.replace("  \n", "\n").rstrip()


def test_sent_from_my_in_a_sentence_is_not_a_signature():
    assert visible_text("Sent from my desk, which is faster.") == "Sent from my desk, which is faster."


def test_a_reply_that_is_all_quote_is_not_emptied():
    assert visible_text("> only a quote\n> here") == "> only a quote\n> here"


def test_empty_input_gives_empty_output():
    assert visible_text("  \n ") == ""


@pytest.mark.parametrize("subject, expected", [
    ("Re: [Engineering] Planning", ("planning", True)),
    ("RE: RE: Planning", ("planning", True)),
    ("AW: Planning", ("planning", True)),
    ("Antw: Planning", ("planning", True)),
    ("Fwd: Planning", ("planning", True)),
    ("FW: Planning", ("planning", True)),
    ("Doorst: Planning", ("planning", True)),
    ("RE[3]: Planning", ("planning", True)),
    ("[Engineering] Planning", ("planning", False)),
    ("Planning: Q3", ("planning: q3", False)),
    ("Rechten en plichten", ("rechten en plichten", False)),
])
def test_thread_subject_drops_reply_and_forward_prefixes_and_tags(subject, expected):
    assert thread_subject(subject) == expected


def _verbs() -> list[str]:
    """Each verb `_WROTE` names, as written in a mail: optional endings dropped, `\\s+` a space."""
    verbs, depth, verb = [], 0, ""
    for character in replies._WROTE + "|":
        depth += {"(": 1, ")": -1}.get(character, 0)
        if character == "|" and depth == 0:
            verbs.append(re.sub(r"\(\?:.*\)\?$", "", verb).replace(r"\s+", " "))
            verb = ""
        else:
            verb += character
    return verbs


@pytest.mark.parametrize("verb", _verbs())
@pytest.mark.parametrize("case", [str, str.upper, str.title])
def test_every_verb_of_a_quote_header_is_found_in_any_case_by_the_cheap_test_before_the_search(verb, case):
    """Lines are searched for the verbs only when they hold a piece of one (`_WROTE_STEMS`): a verb added to
    `_WROTE` without its piece would never be found."""
    assert replies._has_wrote(f"Op 3 mrt. 2015 om 10:00 {case('Ann')} {case(verb)}:")
    assert visible_text(f"Ja, prima.\n\nOn Tue, 3 Mar 2015, Ann <ann@example.com> {case(verb)}:\n> Kan het?\n") == (
        "Ja, prima."
    )
