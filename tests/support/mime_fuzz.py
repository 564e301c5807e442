"""Hypothesis strategies for malformed mail: generated MIME trees, and real mail mangled byte by byte.

The generated messages are built as text, not with `email.message`, so they can be wrong in
every way senders get them wrong: boundaries that never come or never close, unknown and
mislabelled charsets, broken base64 and quoted-printable, stray encoded words, raw 8-bit
headers, missing or duplicate headers, bare line feeds, parts nested deeper than sense.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"

SENDERS = [
    "Alice <alice@example.com>", "alice@example.com", "=?utf-8?q?Al=C3=AFce?= <alice@example.com>",
    "stranger@elsewhere.example", "<>", "alice@example.com <mallory@example.com>", '"unterminated <alice@',
    "=?bogus?x?zz?= <alice@example.com>", "", "MAILER-DAEMON@mx.example.com", "Jörg <jörg@exämple.com>",
]
CHARSETS = ["utf-8", "iso-8859-1", "windows-1252", "us-ascii", "gb2312", "x-unknown", "utf-7", "", '"utf-8']
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "binary", "x-uuencode", "bogus", ""]
TYPES = [
    "text/plain", "text/html", "image/png", "application/pdf", "application/ms-tnef", "message/rfc822",
    "message/delivery-status", "text/calendar", "application/octet-stream", "nonsense", "text/",
]
MULTIPART = ["mixed", "alternative", "related", "report", "signed", "digest", "x-weird"]

printable_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=200
)
junk_bytes = st.binary(max_size=200)
header_value = st.one_of(
    printable_text.map(lambda text: text.replace("\n", " ").replace("\r", " ")),
    st.sampled_from([
        "=?utf-8?b?SGFsbG8=?=", "=?utf-8?b?!!!?=", "=?iso-8859-1?q?caf=E9?=", "=?utf-8?q?=?=", "=?", "?=",
        "Re: AW: Fwd: [engineering] Planning", "<>", "<<a@b>>", "a" * 1200, "\t", "=?utf-8?B?" + "QUFB" * 300 + "?=",
    ]),
)


@st.composite
def headers(draw, content_type: str) -> bytes:
    lines = [
        ("From", draw(st.sampled_from(SENDERS))),
        ("To", draw(st.sampled_from(["engineering@plein.test", "", "undisclosed-recipients:;", "<@>"]))),
        ("Subject", draw(header_value)),
        ("Message-ID", draw(st.sampled_from(["", "<fuzz@example.com>", "no brackets", "<a@b> <c@d>", "<>"]))),
        ("Content-Type", content_type),
    ]
    lines += draw(st.lists(
        st.tuples(
            st.sampled_from([
                "In-Reply-To", "References", "Date", "Content-Disposition", "Auto-Submitted", "Precedence",
                "List-Id", "Content-ID", "X-Junk", "Cc", "Content-Transfer-Encoding",
            ]),
            header_value,
        ),
        max_size=4,
    ))
    lines = draw(st.permutations(lines)) if draw(st.booleans()) else lines
    if draw(st.booleans()):
        lines = lines[: draw(st.integers(0, len(lines)))]
    return b"".join(f"{name}: {value}\r\n".encode("utf-8", "surrogatepass") for name, value in lines)


@st.composite
def leaf(draw) -> tuple[str, bytes]:
    """A content type, and the part's other headers, blank line and body."""
    ctype = draw(st.sampled_from(TYPES))
    charset = draw(st.sampled_from(CHARSETS))
    params = f"; charset={charset}" if charset else ""
    if draw(st.booleans()):
        params += f'; name="{draw(header_value)[:60]}"'
    encoding = draw(st.sampled_from(ENCODINGS))
    body = draw(st.one_of(junk_bytes, printable_text.map(lambda t: t.encode("utf-8", "surrogatepass"))))
    head = f"Content-Transfer-Encoding: {encoding}\r\n".encode() if encoding else b""
    if draw(st.booleans()):
        head += f"Content-Disposition: {draw(st.sampled_from(['attachment', 'inline', 'bogus', '']))}".encode()
        head += b"; filename=" + draw(st.sampled_from([b'"a.pdf"', b"=?utf-8?b?!?=", b'"\xff\xfe"', b"", b'"x'])) + b"\r\n"
    if draw(st.booleans()):
        head += b"Content-ID: <" + draw(st.sampled_from([b"img1@x", b"", b"\xe9"])) + b">\r\n"
    return f"{ctype}{params}", head + b"\r\n" + body


def multipart(children: st.SearchStrategy) -> st.SearchStrategy:
    @st.composite
    def build(draw) -> tuple[str, bytes]:
        boundary = draw(st.sampled_from(["b1", "==boundary==", "a" * 80, "", "b\"q"]))
        declared = draw(st.sampled_from([boundary, boundary, "other", None]))
        ctype = f"multipart/{draw(st.sampled_from(MULTIPART))}"
        if declared is not None:
            ctype += f'; boundary="{declared}"'
        parts = draw(st.lists(children, max_size=4))
        body = b"\r\npreamble\r\n"
        for part_type, part_body in parts:
            body += f"--{boundary}\r\nContent-Type: {part_type}\r\n".encode() + part_body + b"\r\n"
        if draw(st.booleans()):
            body += f"--{boundary}--\r\n".encode()
        return ctype, body

    return build()


mime_tree = st.recursive(leaf(), multipart, max_leaves=8)


@st.composite
def generated_message(draw) -> bytes:
    ctype, rest = draw(mime_tree)
    raw = draw(headers(ctype)) + rest
    if draw(st.booleans()):
        raw = raw.replace(b"\r\n", b"\n")
    return raw


def corpus_messages() -> list[Path]:
    return sorted(CORPUS.rglob("*.eml")) if CORPUS.is_dir() else []


@st.composite
def mutated(draw, raw: bytes) -> bytes:
    """`raw` with a few slices cut, doubled, overwritten or spliced with junk."""
    data = bytearray(raw)
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        start = draw(st.integers(0, len(data) - 1))
        end = draw(st.integers(start, min(len(data), start + 400)))
        action = draw(st.sampled_from(["cut", "double", "junk", "truncate", "nul", "newline"]))
        if action == "cut":
            del data[start:end]
        elif action == "double":
            data[start:start] = data[start:end]
        elif action == "junk":
            data[start:end] = draw(junk_bytes)
        elif action == "truncate":
            del data[end:]
        elif action == "nul":
            data[start:end] = b"\x00" * (end - start)
        else:
            data[start:start] = draw(st.sampled_from([b"\n", b"\r", b"\r\n\r\n", b"\n--", b"=?utf-8?b?"]))
    return bytes(data)


@st.composite
def mutated_corpus_message(draw) -> bytes:
    path = draw(st.sampled_from(corpus_messages()))
    return draw(mutated(path.read_bytes()))


any_malformed_message = st.one_of(generated_message(), junk_bytes)
