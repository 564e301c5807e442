"""Raw inbound bytes to a `ParsedMessage`, whatever the sender's client did to them.

Mail arrives mislabelled, half-encoded, with broken headers and boundaries. Plein must
still file it, so `parse_message` never raises: each header is read through the modern
`email` policy and, when that trips over a malformed value, re-read from its raw text the
compat32 way; bodies are decoded by hand with a fallback chain of charsets. Outlook's
winmail.dat is unpacked into the attachments (and body) it carries, when tnefparse can
read it; otherwise it stays one attachment.
"""

from __future__ import annotations

import binascii
import codecs
import email.utils
import mimetypes
import quopri
import re
from datetime import datetime
from email import policy
from email.header import decode_header
from email.message import Message
from email.parser import BytesParser
from email.policy import EmailPolicy

import tnefparse

from mailgateway.html import html_to_text, sanitize_html
from mailgateway.message import ParsedAttachment, ParsedMessage

_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_AUTO_PRECEDENCE = {"bulk", "junk", "list"}
_AUTORESPONDER_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Vacation")
_SYSTEM_SENDERS = {"mailer-daemon", "postmaster"}
# Out-of-office replies in English, Dutch, German and French, as Outlook, Exchange, Gmail,
# Lotus Notes and Zimbra title them: the phrase ends the subject or is followed by a colon and
# the original subject. An autoresponder that sends none of the headers above still says so here.
_OUT_OF_OFFICE = re.compile(
    r"^\s*+(?:"
    r"auto(?:matic|matische?|matisches)?[- ]?(?:reply|response|answer|antwoord|antwort|beantwoording|bericht)"
    r"|autosvar|out[- ]of[- ](?:the[- ])?office(?:[- ](?:auto-?reply|reply|notice|message))?|ooo"
    r"|afwezig(?:heid)?(?:s?(?:bericht|melding|notitie|assistent))?|niet aanwezig|buiten kantoor"
    r"|ik ben afwezig"
    r"|(?:automatische )?abwesen(?:heit|d)(?:s?(?:notiz|nachricht|meldung|benachrichtigung))?|ich bin abwesend"
    r"|r[ée]ponse (?:automatique|d'absence)|message d[’']absence|absen(?:ce|te?) du bureau|je suis absente?"
    r")\s*+(?::|$)",
    re.IGNORECASE,
)
# RFC 5322 section 3.6 allows each of these once. Plein reads the first; a DKIM verifier reads
# the last (RFC 6376 section 5.4.2): with two, a signed mail could be replayed under a new title.
_ONCE = ("From", "Subject", "Date", "To", "Cc", "Message-ID", "In-Reply-To", "References")
_RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "To", "Cc")
_TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}
# `alice@example.com <bob@example.com>`: an unquoted display name that is itself an address.
# Quoted, the parser reads bob as the sender instead of the name spoofing alice. Each
# name is read once, whole, and tested for an @ after: a pattern that looked for the @ and
# the end of the name itself took the square of the name's length.
_UNQUOTED_NAME = re.compile(r'(^|,)([^",<>]*+)<')


def parse_message(raw: bytes) -> ParsedMessage:
    raw = raw.lstrip(b"\r\n\t ")
    for parsing_policy in (policy.default, policy.compat32):
        try:
            return _parsed(BytesParser(policy=parsing_policy).parsebytes(raw))
        except Exception:  # the modern policy raises on some malformed headers; compat32 rarely does
            continue
    return ParsedMessage(message_id=None, subject="", from_address="", from_name="", text="")


def envelope_of(raw: bytes) -> tuple[str, list[str]]:
    """The envelope sender and recipients of a message taken from a mailbox, read from its headers.

    Delivered-To and X-Original-To name the address the mailbox received it for (a Bcc, an
    alias), To and Cc the rest; Return-Path is the envelope sender the last server recorded.
    """
    try:
        msg = BytesParser(policy=policy.compat32).parsebytes(raw.lstrip(b"\r\n\t "), headersonly=True)
    except Exception:
        return "", []
    return_path = _message_ids(_header(msg, "Return-Path"))
    recipients = dict.fromkeys(address for name in _RECIPIENT_HEADERS for _, address in _addresses(msg, name))
    return (return_path[0].lower() if return_path else ""), list(recipients)


def _parsed(msg: Message) -> ParsedMessage:
    texts, htmls, attachments = _walk(msg)
    html = "\n".join(htmls) if htmls else None
    texts = [text for text in texts if text.strip()]
    text = "\n\n".join(texts) if texts else html_to_text(html or "")
    sender = _addresses(msg, "From")
    ids = _message_ids(_header(msg, "Message-ID"))
    return ParsedMessage(
        message_id=ids[0] if ids else (_header(msg, "Message-ID").strip() or None),
        subject=" ".join(_header(msg, "Subject").split()),
        from_address=sender[0][1] if sender else "",
        from_name=sender[0][0] if sender else "",
        text=text,
        html=sanitize_html(html) if html is not None else None,
        in_reply_to=_message_ids(_header(msg, "In-Reply-To")),
        references=_message_ids(_header(msg, "References")),
        recipients=list(dict.fromkeys(
            address for name in _RECIPIENT_HEADERS for _, address in _addresses(msg, name)
        )),
        date=_date(msg),
        attachments=attachments,
        auto_submitted=bool(automatic := _automatic_reason(msg, sender[0][1] if sender else "")),
        auto_reason=automatic,
        list_id=_list_id(_header(msg, "List-Id")),
        loops=[
            _decode_words(str(value)).strip().lower() for key, value in msg.raw_items() if key.lower() == "x-loop"
        ],
        malformed=_repeated_headers(msg),
    )


def _repeated_headers(msg: Message) -> str:
    """Which header RFC 5322 allows once the message has more than once, or ""."""
    names = [key.lower() for key, _ in msg.raw_items()]
    for name in _ONCE:
        if (count := names.count(name.lower())) > 1:
            return f"{count} {name} headers; RFC 5322 section 3.6 allows one, and readers differ on which counts"
    return ""


def _header(msg: Message, name: str) -> str:
    """The decoded value of the first `name` header, or "" when absent."""
    try:
        if isinstance(msg.policy, EmailPolicy) and (value := msg.get(name)) is not None:
            return str(value)
    except Exception:
        pass  # a value the modern parser chokes on: decode it the compat32 way below
    raw = next((value for key, value in msg.raw_items() if key.lower() == name.lower()), None)
    return "" if raw is None else _decode_words(str(raw))


def _decode_words(raw: str) -> str:
    """RFC 2047 encoded words decoded the compat32 way; raw 8-bit bytes read as text too."""
    raw = _unescaped(raw)
    try:
        return "".join(
            _decode(chunk, charset) if isinstance(chunk, bytes) else chunk for chunk, charset in decode_header(raw)
        )
    except Exception:
        return raw


def _unescaped(raw: str) -> str:
    """A header value whose raw 8-bit bytes the parser kept as surrogates, read as text."""
    if any("\udc80" <= char <= "\udcff" for char in raw):
        return _decode(raw.encode("ascii", "surrogateescape"), None)
    return raw


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs from every `name` header."""
    pairs: list[tuple[str, str]] = []
    for key, raw in msg.raw_items():
        if key.lower() != name.lower():
            continue
        raw = _UNQUOTED_NAME.sub(_quoted_if_address, _unescaped(str(raw)))
        legacy = {address.lower(): _decode_words(name) for name, address in email.utils.getaddresses([raw])}
        try:
            found = [
                # an old-style `ann@example.com (Ann)` name is a comment the modern parser drops
                (a.display_name or legacy.get(a.addr_spec.lower(), ""), a.addr_spec)
                for a in msg.policy.header_factory(key, raw).addresses
            ]
        except Exception:
            found = [(name, address) for address, name in legacy.items()]
        pairs += [(_display_name(n, a), a.strip().lower()) for n, a in found if "@" in a]
    return pairs


def _quoted_if_address(found: re.Match[str]) -> str:
    name = found[2].strip()
    return f'{found[1]} "{name}" <' if "@" in name else found[0]


def _display_name(name: str, address: str) -> str:
    name = " ".join(name.split())
    return "" if name.lower() == address.strip().lower() else name


def _message_ids(value: str) -> list[str]:
    return _MESSAGE_ID.findall(value) or [word for word in value.split() if "@" in word]


def _date(msg: Message) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(_header(msg, "Date"))
    except Exception:
        return None


def _automatic_reason(msg: Message, sender: str) -> str:
    """Why `msg` was sent by a machine rather than a person, or "" (RFC 3834 and common practice)."""
    auto = _header(msg, "Auto-Submitted").strip().lower()
    if auto and auto.split(";")[0].strip() != "no":  # RFC 3834 section 5: anything but "no"
        return f"Auto-Submitted: {auto}"
    precedence = _header(msg, "Precedence").strip().lower()
    if precedence in _AUTO_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in _AUTORESPONDER_HEADERS:
        if _header(msg, name).strip():
            return f"{name} header"
    if msg.get_content_type() == "multipart/report":
        return "a delivery or read report"
    if sender.partition("@")[0] in _SYSTEM_SENDERS:
        return f"sent by {sender}"
    subject = " ".join(_header(msg, "Subject").split())
    if _OUT_OF_OFFICE.match(subject):
        return f"out-of-office subject {subject[:80]!r}"
    return ""


def _list_id(value: str) -> str:
    """`Engineering <engineering.plein.example>` -> `engineering.plein.example` (RFC 2919)."""
    found = re.search(r"<([^<>]+)>", value)
    return (found.group(1) if found else value).strip().lower()


def _walk(msg: Message) -> tuple[list[str], list[str], list[ParsedAttachment]]:
    """Body texts, body HTML parts and attachments, in document order.

    The parts of an attached message are not walked: it becomes one attachment.
    """
    texts: list[str] = []
    htmls: list[str] = []
    attachments: list[ParsedAttachment] = []
    outlook_bodies: list[tuple[str, str]] = []
    stack: list[Message] = [msg]
    while stack:
        part = stack.pop(0)
        # Each asked once: the header parser parses a header again on every access.
        ctype = part.get_content_type()
        maintype, filename = ctype.partition("/")[0], _filename(part)
        if ctype == "message/rfc822" and part is not msg:
            attachments.append(_attached_message(part, filename))
        elif _is_tnef(ctype, filename) and (unpacked := _tnef_contents(_payload(part))) is not None:
            attachments += unpacked[0]
            outlook_bodies.append(unpacked[1:])
        elif _is_attachment(part, maintype, filename):
            attachments.append(_attachment(part, ctype, filename))
        elif maintype == "message" and part is not msg:
            continue  # delivery-status and friends: report data, not content
        elif part.is_multipart():
            stack[:0] = [p for p in part.get_payload() if isinstance(p, Message)]
        elif ctype == "text/plain" or maintype == "multipart":
            texts.append(_text(part))  # a multipart whose boundary never came is read as text
        elif ctype == "text/html":
            htmls.append(_text(part))
    if not htmls and not any(text.strip() for text in texts):  # the body came inside winmail.dat
        texts += [text for text, _ in outlook_bodies if text.strip()]
        htmls += [html for _, html in outlook_bodies if html.strip()]
    return texts, htmls, attachments


def _is_tnef(ctype: str, filename: str | None) -> bool:
    return ctype in _TNEF_TYPES or (filename or "").lower() == "winmail.dat"


def _tnef_contents(data: bytes) -> tuple[list[ParsedAttachment], str, str] | None:
    """The attachments, text and HTML inside Outlook's winmail.dat; None when it cannot be read.

    Outlook packs a rich-text mail's attachments and body into one TNEF attachment that no
    other client reads. tnefparse unpacks it; one whose checksums fail (cut short, damaged)
    is not unpacked, so no attachment is taken for whole when it is not. A body Outlook kept
    only as compressed RTF is not read (the mail's own text part, or the original, has it).
    """
    try:
        tnef = tnefparse.TNEF(data)
        names = [_safe_name(_tnef_text(item.long_filename())) for item in tnef.attachments]
        if not all(part.good_checksum for part in tnef.objects) or not all(names) or not _tnef_whole(data, tnef):
            return None  # damaged, or cut short
        attachments = [
            ParsedAttachment(
                filename=name,
                content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
                data=bytes(item.data),
            )
            for name, item in zip(names, tnef.attachments)
        ]
        text, html = _tnef_text(tnef.body), _tnef_text(tnef.htmlbody)
    except Exception:  # tnefparse raises all kinds of errors on damaged or unusual data
        return None
    return (attachments, text, html) if attachments or text.strip() or html.strip() else None


_TNEF_ATTACHMENT_START, _TNEF_ATTACHMENT_DATA, _TNEF_ATTACHMENT_PROPERTIES = 0x9002, 0x800F, 0x9005


def _tnef_whole(data: bytes, tnef: tnefparse.TNEF) -> bool:
    """Whether every attribute in the stream is whole and every attachment has its data.

    tnefparse reads a stream cut at (or just past) an attribute boundary as a shorter valid
    one, so the framing is checked here: each attribute as long as it says, together the
    whole stream, and no attachment that ends before its data.
    """
    offset, has_data = 6, []
    for part in tnef.objects:
        if part.length != int.from_bytes(data[offset + 5 : offset + 9], "little") + 11:
            return False
        offset += part.length
        if part.name == _TNEF_ATTACHMENT_START:
            has_data.append(False)
        elif part.name in (_TNEF_ATTACHMENT_DATA, _TNEF_ATTACHMENT_PROPERTIES) and has_data:
            has_data[-1] = True
    return offset == len(data) and all(has_data)


def _tnef_text(value: str | bytes | None) -> str:
    if isinstance(value, bytes):
        value = _decode(value, None)
    return (value or "").replace("\x00", "")


def _is_attachment(part: Message, maintype: str, filename: str | None) -> bool:
    disposition = (part.get_content_disposition() or "").lower()
    return (
        disposition == "attachment"
        or filename is not None
        or (maintype == "image" and (disposition == "inline" or "Content-ID" in part))
        or maintype in {"application", "audio", "video"}
    )


def _filename(part: Message) -> str | None:
    # compat32 copes with parameters like `filename==?utf-8?B?...?=` that the modern
    # header parser drops; encoded words are then decoded by hand.
    legacy = Message()
    for key, value in part.raw_items():
        if key.lower() in {"content-type", "content-disposition"}:
            legacy[key] = value
    for source in (part, legacy):
        try:
            name = source.get_filename()
        except Exception:
            name = None
        if name and name.strip():
            return _decode_words(name).strip()
    return None


def _attachment(part: Message, ctype: str, filename: str | None) -> ParsedAttachment:
    content_id = _header(part, "Content-ID").strip().strip("<>").strip() or None
    filename = filename or f"{content_id or 'attachment'}{mimetypes.guess_extension(ctype) or ''}"
    return ParsedAttachment(
        filename=filename,
        content_type=ctype,
        data=_payload(part),
        content_id=content_id,
        inline=part.get_content_disposition() != "attachment" and content_id is not None,
    )


def _attached_message(part: Message, filename: str | None) -> ParsedAttachment:
    inner = part.get_payload()
    try:
        data = inner[0].as_bytes(policy=policy.compat32) if isinstance(inner, list) and inner else _payload(part)
    except Exception:
        data = _payload(part)
    # Some clients base64- or qp-encode an attached message though RFC 2046 section 5.2.1 forbids it.
    encoding = _header(part, "Content-Transfer-Encoding").strip().lower()
    try:
        if encoding == "base64":
            data = binascii.a2b_base64(data)
        elif encoding == "quoted-printable":
            data = quopri.decodestring(data)
    except (binascii.Error, ValueError):
        pass
    subject = _header(BytesParser(policy=policy.default).parsebytes(data, headersonly=True), "Subject")
    filename = filename or f"{_safe_name(subject) or 'message'}.eml"
    return ParsedAttachment(filename=filename, content_type="message/rfc822", data=data)


def _safe_name(subject: str) -> str:
    return re.sub(r"[\\/:*?\"<>|\x00-\x1f]+", " ", " ".join(subject.split())).strip()[:100]


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    if isinstance(raw, list):  # message/delivery-status: blocks of fields
        return b"\n".join(block.as_bytes(policy=policy.compat32) for block in raw)
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def _text(part: Message) -> str:
    return _decode(_payload(part), part.get_content_charset())


def _decode(data: bytes, charset: str | None) -> str:
    """Bytes to text: the declared charset, else UTF-8, else windows-1252; never raises."""
    declared = (charset or "").strip("\"' ").lower()
    # Mail labelled Latin-1 is in practice windows-1252 (the WHATWG Encoding Standard maps them too).
    declared = "windows-1252" if declared in {"iso-8859-1", "latin1", "latin-1"} else declared
    for candidate in filter(None, (declared, "utf-8")):
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeError):
            pass
    try:  # a few bad bytes in, say, GB2312 text: keep the rest readable in its own charset
        if codecs.lookup(declared).name not in {"ascii", "utf-8"}:
            return data.decode(declared, errors="replace")
    except LookupError:
        pass
    return data.decode("windows-1252", errors="replace")
