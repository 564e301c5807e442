"""A small demo company, so the first page a newcomer opens is alive."""

from __future__ import annotations

import io

from docx import Document
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Group
from hub.services import accounts, groups, posts
from hub.services.attachments import attach

PEOPLE = [
    ("anna@plein.localhost", "Anna de Vries"),
    ("bram@plein.localhost", "Bram Jansen"),
    ("chloe@plein.localhost", "Chloé Martin"),
    ("daan@plein.localhost", "Daan Bakker"),
]


def _manual() -> bytes:
    document = Document()
    document.add_heading("Glasvezel aansluiten: veldhandleiding", 1)
    document.add_paragraph(
        "Controleer eerst de ONT-lampjes. Brandt LOS rood, dan is de glasvezelkabel geknikt of vuil. "
        "Reinig de connector met een klikreiniger en meet het signaal: tussen -8 en -25 dBm is goed."
    )
    document.add_paragraph("Fiber modem checklist: power, PON, LOS, LAN.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def seed_demo(session: Session) -> bool:
    """Create the demo company; False when it is already there."""
    if session.scalar(select(Group.id).where(Group.slug == "engineering")):
        return False
    anna, bram, chloe, daan = (accounts.create_user(session, email, name) for email, name in PEOPLE)
    engineering = groups.create_group(
        session, "engineering", "Engineering", description="Field and network engineering: questions, fixes, manuals."
    )
    board = groups.create_group(
        session, "board", "Board", private=True, description="The management team. Private."
    )
    for user, delivery in ((anna, "each"), (bram, "each"), (chloe, "daily"), (daan, "weekly")):
        groups.add_member(session, engineering, user, delivery)
    groups.add_member(session, board, anna, "each")
    groups.add_member(session, board, daan, "daily")

    post = posts.create_post(
        session, engineering, anna, "Glasvezelmodem blijft op LOS staan",
        "Bij een klant in Utrecht brandt het LOS-lampje rood na de installatie. "
        "Kabel is nieuw. Iemand een idee? De veldhandleiding zit erbij.",
    )
    attach(
        session, post, "glasvezel-veldhandleiding.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", _manual(),
    )
    first = posts.create_comment(
        session, post, bram,
        "Meestal is de connector vuil. Reinigen met een klikreiniger en opnieuw meten; onder -25 dBm is te zwak.",
    )
    posts.create_comment(session, post, anna, "Dat was het: na reinigen -14 dBm. Dank je!", parent=first)
    posts.create_comment(session, post, chloe, "Worth adding to the checklist in the manual, I think.")
    posts.create_post(
        session, engineering, chloe, "New spare-parts cabinet in Amersfoort",
        "The cabinet next to the loading dock now has ONTs, patch cables and cleaning kits. Sign what you take.",
    )
    posts.create_post(
        session, board, daan, "Q3 numbers", "Draft figures for the board only. Please keep them in this group.",
    )
    return True
