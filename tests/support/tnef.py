"""Outlook's winmail.dat (TNEF, application/ms-tnef), written from scratch so tests build their own samples.

A TNEF stream ([MS-OXTNEF] 2.1.3) is a signature, a legacy key, then attributes, each one a level byte
(message or attachment), a 4-byte attribute id (type in the high word, id in the low word), a 4-byte
length, the data and a 2-byte checksum: the sum of the data bytes mod 65536. The message's attributes come
first; each attachment then starts with attAttachRendData, and everything up to the next one belongs to it.
MAPI properties travel inside attMsgProps (the message) and attAttachment (an attachment) as a counted
list of property tag + value ([MS-OXTNEF] 2.1.3.4).

Only what Plein's tests need is written: the message class, a body (legacy attBody, or PR_BODY and
PR_BODY_HTML), and files with their short name, their bytes and optionally a long file name.
"""

from __future__ import annotations

import struct

SIGNATURE = 0x223E9F78
LEGACY_KEY = 0x4E50  # any 16-bit value; only old attachment references use it

MESSAGE, ATTACHMENT = 0x01, 0x02

# TNEF attribute ids, [MS-OXTNEF] 2.1.3.3: attribute type << 16 | attribute id.
ATT_TNEF_VERSION = 0x00089006
ATT_OEM_CODEPAGE = 0x00069007
ATT_MESSAGE_CLASS = 0x00078008
ATT_BODY = 0x0002800C
ATT_MSG_PROPS = 0x00069003
ATT_ATTACH_REND_DATA = 0x00069002
ATT_ATTACH_TITLE = 0x00018010
ATT_ATTACH_DATA = 0x0006800F
ATT_ATTACHMENT = 0x00069005

TNEF_VERSION = 0x00010000
OEM_CODEPAGE = 1252  # attTitle and attBody are in this code page

# MAPI property tags, [MS-OXPROPS]: property id << 16 | property type.
PT_LONG, PT_UNICODE, PT_BINARY = 0x0003, 0x001F, 0x0102
PR_BODY = 0x1000 << 16 | PT_UNICODE
PR_BODY_HTML = 0x1013 << 16 | PT_BINARY
PR_INTERNET_CPID = 0x3FDE << 16 | PT_LONG  # the code page of PR_BODY_HTML
PR_ATTACH_LONG_FILENAME = 0x3707 << 16 | PT_UNICODE

UTF8_CODEPAGE = 65001
ATTACH_TYPE_FILE = 0x0001


def winmail_dat(*attributes: bytes) -> bytes:
    """A whole stream: the header, version, code page and message class, then `attributes` in order.

    Pass the message's own attributes (`legacy_body`, `body`) before the attachments.
    """
    return (
        struct.pack("<IH", SIGNATURE, LEGACY_KEY)
        + attribute(MESSAGE, ATT_TNEF_VERSION, struct.pack("<I", TNEF_VERSION))
        + attribute(MESSAGE, ATT_OEM_CODEPAGE, struct.pack("<II", OEM_CODEPAGE, 0))
        + attribute(MESSAGE, ATT_MESSAGE_CLASS, b"IPM.Microsoft Mail.Note\x00")
        + b"".join(attributes)
    )


def attribute(level: int, attribute_id: int, data: bytes) -> bytes:
    checksum = sum(data) % 65536
    return struct.pack("<BII", level, attribute_id, len(data)) + data + struct.pack("<H", checksum)


def legacy_body(text: str) -> bytes:
    """The plain text body as older Outlook and Exchange write it: attBody, in the OEM code page."""
    return attribute(MESSAGE, ATT_BODY, text.encode(f"cp{OEM_CODEPAGE}"))


def body(text: str, html: str) -> bytes:
    """The body as MAPI properties in attMsgProps: PR_BODY (UTF-16) and PR_BODY_HTML (UTF-8 bytes)."""
    return attribute(
        MESSAGE,
        ATT_MSG_PROPS,
        mapi_properties(
            (PR_INTERNET_CPID, struct.pack("<I", UTF8_CODEPAGE)),
            (PR_BODY, _counted(_unicode(text))),
            (PR_BODY_HTML, _counted(html.encode("utf-8"))),
        ),
    )


def attachment(name: str, data: bytes, *, long_name: str | None = None) -> bytes:
    """One file: rendering data (which starts it), its short name, its bytes and, if given, its long name.

    Outlook writes an 8.3 name in attAttachTitle and the real one as PR_ATTACH_LONG_FILENAME.
    """
    render_data = struct.pack("<HIHHI", ATTACH_TYPE_FILE, 0xFFFFFFFF, 0, 0, 0)  # no position, size or flags
    attributes = [
        attribute(ATTACHMENT, ATT_ATTACH_REND_DATA, render_data),
        attribute(ATTACHMENT, ATT_ATTACH_TITLE, name.encode(f"cp{OEM_CODEPAGE}") + b"\x00"),
        attribute(ATTACHMENT, ATT_ATTACH_DATA, data),
    ]
    if long_name is not None:
        properties = mapi_properties((PR_ATTACH_LONG_FILENAME, _counted(_unicode(long_name))))
        attributes.append(attribute(ATTACHMENT, ATT_ATTACHMENT, properties))
    return b"".join(attributes)


def mapi_properties(*properties: tuple[int, bytes]) -> bytes:
    """A property list: its count, then each property's tag and its value as already encoded."""
    return struct.pack("<I", len(properties)) + b"".join(struct.pack("<I", tag) + value for tag, value in properties)


def _counted(value: bytes) -> bytes:
    """A variable-size value (string, binary): one value, its length, its bytes padded to 4."""
    return struct.pack("<II", 1, len(value)) + value + b"\x00" * (-len(value) % 4)


def _unicode(text: str) -> bytes:
    return (text + "\x00").encode("utf-16-le")
