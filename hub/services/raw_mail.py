"""Raw inbound messages on disk: written durably before SMTP answers 250, read back later.

The raw bytes are the record of what arrived: they are processed from here, verified (DKIM
signs the bytes as they came), shown to admins and moderators, and published on approval.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from hub.context import context_of
from hub.models import InboundMessage, utcnow
from hub.services.attachments import write_durably


def keep_raw(data_dir: Path, raw: bytes) -> str:
    """Write the raw message durably under `data_dir`; returns its path relative to it."""
    relative = f"inbound/{utcnow():%Y/%m/%d}/{uuid.uuid4().hex}.eml"
    write_durably(data_dir / relative, raw)
    return relative


def read_raw(inbound: InboundMessage) -> bytes:
    return (context_of(inbound).settings.data_dir / inbound.path).read_bytes()
