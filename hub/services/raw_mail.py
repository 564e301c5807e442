"""Raw inbound messages on disk: written durably before SMTP answers 250, read back later.

The raw bytes are the record of what arrived: they are processed from here, verified (DKIM
signs the bytes as they came), shown to admins and moderators, and published on approval.
"""

from __future__ import annotations

import uuid

from hub.models import InboundMessage, utcnow
from hub.services.attachments import write_durably
from hub.settings import get_settings


def keep_raw(raw: bytes) -> str:
    """Write the raw message durably; returns its path relative to the data directory."""
    relative = f"inbound/{utcnow():%Y/%m/%d}/{uuid.uuid4().hex}.eml"
    write_durably(get_settings().data_dir / relative, raw)
    return relative


def read_raw(inbound: InboundMessage) -> bytes:
    return (get_settings().data_dir / inbound.path).read_bytes()
