"""The hub's side of the mail gateway: `mailgateway.smtp.InboundSink`, one transaction per call."""

from __future__ import annotations

from hub.db import session_scope
from hub.services import inbound


class HubInboundSink:
    def accepts(self, address: str) -> bool:
        with session_scope() as session:
            return inbound.accepts_recipient(session, address)

    def store(self, raw: bytes, envelope_from: str, recipients: list[str]) -> None:
        with session_scope() as session:
            inbound.store_inbound(session, raw, envelope_from, recipients)
