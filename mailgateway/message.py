"""The parsed form of an inbound mail: what the rest of Plein needs, free of MIME."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None
    inline: bool = False


@dataclass(frozen=True)
class ParsedMessage:
    """A mail reduced to the parts a post or comment is made of.

    Message ids are stored without angle brackets. Addresses are lower-cased.
    `text` is always set (derived from the HTML part for HTML-only mail);
    `html` is the sanitized HTML part, or None when the mail had none.
    """

    message_id: str | None
    subject: str
    from_address: str
    from_name: str
    text: str
    html: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    date: datetime | None = None
    attachments: list[ParsedAttachment] = field(default_factory=list)
    auto_submitted: bool = False
    auto_reason: str = ""
    """Why the mail looks machine-sent (an auto-reply, a report, bulk mail); "" for a person's mail."""
    list_id: str = ""
    """The List-Id (RFC 2919) without angle brackets, lower-cased; "" when absent."""
    loops: list[str] = field(default_factory=list)
    """The X-Loop values, lower-cased: who passed the mail on before, as a mail system sees it."""
    malformed: str = ""
    """Why the mail cannot be read one way only (two Subject headers, ...), or "": such mail is refused."""
    reply_text: str = ""
    """The author's own words (quotes and signature cut, `mailgateway.replies`). Only
    `mailgateway.timebox` sets it, trimming under the same time limit as it parses."""

    @property
    def thread_ids(self) -> list[str]:
        """Ids this mail answers, nearest first (In-Reply-To, then References newest to oldest)."""
        seen: list[str] = []
        for message_id in [*self.in_reply_to, *reversed(self.references)]:
            if message_id not in seen:
                seen.append(message_id)
        return seen
