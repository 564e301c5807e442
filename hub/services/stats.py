"""Counts of what Plein has done, read from the database so every process reports the same."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import InboundMessage, OutgoingMail


def inbound_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(InboundMessage.status, func.count()).group_by(InboundMessage.status))
    return {status.value: count for status, count in rows}


def outgoing_by_kind_and_status(session: Session) -> dict[tuple[str, str], int]:
    """Outgoing mail counted by what it is (`post`, `comment`, `digest`, ...) and its status."""
    kind = func.substr(OutgoingMail.key, 1, func.instr(OutgoingMail.key, ":") - 1)
    if session.get_bind().dialect.name == "postgresql":
        kind = func.split_part(OutgoingMail.key, ":", 1)
    rows = session.execute(select(kind, OutgoingMail.status, func.count()).group_by(kind, OutgoingMail.status))
    return {(k, status.value): count for k, status, count in rows}
