"""Posts and comments as pages show them: Markdown made into sanitized HTML, with `@mentions` and
`#tags` as links, tables, and images from the thread's own attachments.

Most text comes from mail, so a line break stays a line break. Raw HTML in the text is shown as
text, never passed on; what Markdown makes is cleaned once more by nh3 (links keep http, https
and mailto only and get rel="nofollow noopener"). Markdown's parser is quadratic on some input
(thousands of `[`), so text longer than `MARKDOWN_MAX_CHARS` is shown as plain text instead.

An image shows only when it is a file of the thread: `![caption](photo.jpg)` names it by its file
name (the oldest of that name), `![caption](attachment:12)` by its id. In a composer's preview, an
image named by a file the author chose but has not posted yet shows as a placeholder that says so. Any other image would tell
its server who reads: one on the web stays a link, anything else stays text. HTML that came by
mail was sanitized when it arrived (`mailgateway.html`); `mail_html` cleans it once more for the
page, keeping only images the mail carried itself. Cleaning is quadratic in how deep the HTML nests
(a second for 10,000 levels), so HTML nested deeper than `MAIL_HTML_MAX_DEPTH` is shown as its text.

A page renders all its bodies with one call, which resolves every mention on it in one query.

`snippet` is the other way round: the start of a text as plain words for a feed, a digest or a
notification mail, with Markdown (and any HTML in it) taken out, images as their caption or file name.
"""

from __future__ import annotations

import html as html_module
import re
from collections.abc import Iterable, Mapping
from posixpath import basename
from urllib.parse import unquote, urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup
from sqlalchemy.orm import Session

from hub.models import Attachment, User
from hub.services import document_cards
from hub.services.attachments import PHOTO, media_kind
from hub.services.mentions import find_mentions, resolve
from hub.services.tags import tag_spans
from hub.urls import attachment_path, person_path, tag_path

MARKDOWN_MAX_CHARS = 10_000
"""About 0.15 s for the worst input we know; a mail longer than this is rarely Markdown anyway."""

_MARKDOWN = (
    MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": True, "typographer": False})
    .enable(["linkify", "strikethrough", "table"])
)
_TABLE_TAGS = {"table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col"}
_ALLOWED_TAGS = {
    "p", "br", "a", "strong", "em", "s", "del", "code", "pre", "blockquote", "ul", "ol", "li", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6", "img", "span", *_TABLE_TAGS,
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "class"}, "ol": {"start"}, "code": {"class"}, "img": {"src", "alt", "title"}, "span": {"class"},
    "th": {"style"}, "td": {"style"},
}
SNIPPET_LENGTH = 200
"""About two lines of a phone screen."""
SNIPPET_SOURCE_CHARS = 800
"""How much of a text a snippet reads (cut at a line break in its second half, so no table row is cut): enough words for a snippet of four times
`SNIPPET_LENGTH` even with long links, and parsing it costs about half a millisecond, as the feed makes one
for every item on a page."""
_SNIPPET_MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["strikethrough", "table"])
_MARKUP = re.compile(r"[*_`#|!\[\]<>~&\\]|^ {0,3}(?:[-+=]|\d{1,9}[.)])", re.M)
"""A text without any of these reads the same as plain text, so a snippet can skip the parser."""
MAIL_HTML_MAX_DEPTH = 200
"""Real mail nests up to about 40 levels (newsletters of tables in tables)."""
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>")
_VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_ATTACHMENT_PREFIX = "/attachments/"
_MAIL_TAGS = {
    "p", "br", "b", "i", "strong", "em", "u", "s", "del", "a", "ul", "ol", "li", "blockquote", "pre", "code",
    "h1", "h2", "h3", "h4", "h5", "h6", "div", "span", "img", "hr", *_TABLE_TAGS,
}
_MAIL_ATTRIBUTES = {
    "a": {"href", "title"}, "ol": {"start"}, "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align", "valign"}, "th": {"colspan", "rowspan", "align", "valign"},
    "col": {"span"}, "colgroup": {"span"},
}


def render_bodies(
    session: Session, texts: Iterable[str], reader: User | None = None, *, attachments: Iterable[Attachment] = (),
    pending: Mapping[str, str] | None = None,
) -> dict[str, Markup]:
    """Each text as HTML, keyed by the text itself; every mention in them resolved with one query, and links to
    documents `reader` may see shown as cards. `attachments` are the thread's files, which its texts may show
    as images; `pending` the files chosen in a composer but not stored yet, by file name, each with the words
    its placeholder shows."""
    texts = list(dict.fromkeys(texts))
    mentions = [mention for text in texts if len(text) <= MARKDOWN_MAX_CHARS for mention in find_mentions(text)]
    people = resolve(session, mentions)
    files = _Files(attachments, pending or {})
    return document_cards.with_cards(session, reader, {text: _render(text, people, files) for text in texts})


def snippet(text: str, length: int = SNIPPET_LENGTH) -> str:
    """The start of `text` as plain words on one line, at most `length` characters, cut at a word."""
    head = text[:SNIPPET_SOURCE_CHARS]
    if _MARKUP.search(head):
        line_end = head.rfind("\n") if len(text) > SNIPPET_SOURCE_CHARS else -1
        head = _plain(head[:line_end] if line_end > SNIPPET_SOURCE_CHARS // 2 else head)
    flat = " ".join(head.split())
    if len(flat) <= length:
        return flat
    cut = flat[: length - 1]
    if flat[length - 1] != " " and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(".,;:") + "\N{HORIZONTAL ELLIPSIS}"


def _plain(text: str) -> str:
    """Markdown as its words: blocks and table cells apart, images as their caption or file name, HTML as text."""
    words: list[str] = []
    for token in _SNIPPET_MARKDOWN.parse(text):
        if token.type == "inline":
            words += (_inline_text(child) for child in token.children or ())
        elif token.type in {"code_block", "fence"}:
            words.append(token.content)
        elif token.type == "html_block":
            words.append(_without_tags(token.content))
        if token.nesting == -1 or token.type in {"code_block", "fence", "html_block", "hr"}:
            words.append(" ")
    return "".join(words)


def _inline_text(token: Token) -> str:
    if token.type in {"text", "code_inline"}:
        return token.content
    if token.type in {"softbreak", "hardbreak"}:
        return " "
    if token.type == "image":
        return token.content or basename(urlsplit(unquote(str(token.attrs.get("src", "")))).path)
    return ""


def _without_tags(html: str) -> str:
    cleaned = nh3.clean(html, tags=set(), clean_content_tags={"script", "style", "title", "head"})
    return html_module.unescape(cleaned)


def mail_html(html: str) -> Markup | None:
    """HTML that came by mail, as a page shows it: formatting, links, and images it carried itself;
    None when it nests too deep to clean in time."""
    if _depth(html) > MAIL_HTML_MAX_DEPTH:
        return None
    return Markup(
        nh3.clean(
            html, tags=_MAIL_TAGS, attributes=_MAIL_ATTRIBUTES, attribute_filter=_own_images,
            clean_content_tags={"script", "style", "title", "head", "iframe", "object", "noscript", "template"},
            url_schemes={"http", "https", "mailto", "data"}, link_rel="noopener noreferrer nofollow",
        )
    )


def _depth(html: str) -> int:
    depth = deepest = 0
    for match in _TAG.finditer(html):
        if match.group(2).lower() not in _VOID_TAGS:
            depth += -1 if match.group(1) else 1
            deepest = max(deepest, depth)
    return deepest


class _Files:
    """The thread's attachments by file name (the oldest of a name) and by id, and the files not stored yet."""

    def __init__(self, attachments: Iterable[Attachment], pending: Mapping[str, str]) -> None:
        self.pending = pending
        self.by_id: dict[str, Attachment] = {}
        self.by_name: dict[str, Attachment] = {}
        for attachment in sorted(attachments, key=lambda a: a.id):
            self.by_id[str(attachment.id)] = attachment
            self.by_name.setdefault(attachment.filename, attachment)

    def named(self, source: str) -> Attachment | None:
        source = unquote(source)
        if source.lower().startswith("attachment:"):
            return self.by_id.get(source.split(":", 1)[1].strip())
        return self.by_name.get(source)


def _render(text: str, people: dict[tuple[str, str], User], files: _Files) -> Markup:
    if len(text) > MARKDOWN_MAX_CHARS:
        return Markup('<pre class="plain">{}</pre>').format(text)
    tokens = _MARKDOWN.parse(text)
    for token in tokens:
        if token.type == "inline" and token.children:
            token.children = _linked(_images(token.children, files), people)
    html = _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {})
    return Markup(
        nh3.clean(
            html, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES, attribute_filter=_own_images,
            url_schemes={"http", "https", "mailto"}, link_rel="nofollow noopener",
            filter_style_properties={"text-align"},
        )
    )


def _own_images(tag: str, attribute: str, value: str) -> str | None:
    """An image's source only when it is a stored attachment, or (from mail) an image inside the mail."""
    if tag == "img" and attribute == "src":
        return value if value.startswith(_ATTACHMENT_PREFIX) or value.lower().startswith("data:image/") else None
    return value


def _images(children: list[Token], files: _Files) -> list[Token]:
    """Images of the thread's own photos; another file of the thread, or an image on the web, as a link to it;
    any other image as the text it was written as."""
    result: list[Token] = []
    for child in children:
        if child.type != "image":
            result.append(child)
            continue
        source, caption = str(child.attrs.get("src", "")), child.content
        attachment = files.named(source)
        if attachment is not None and media_kind(attachment.content_type, attachment.filename) == PHOTO:
            child.attrs["src"] = attachment_path(attachment.id, attachment.filename)
            child.children = [_text(caption or attachment.filename)]  # the renderer makes `alt` of these
            result.append(child)
        elif attachment is not None:
            result += _link(attachment_path(attachment.id, attachment.filename), caption or attachment.filename)
        elif (note := files.pending.get(unquote(source))) is not None:
            result.append(_placeholder(caption or unquote(source), note))
        elif source.startswith(("http://", "https://")):
            result += _link(source, caption or source)
        else:
            result.append(_text(f"![{caption}]({unquote(source)})"))
    return result


def _placeholder(caption: str, note: str) -> Token:
    """Where a file not posted yet will show: its caption and a note, as raw HTML made here (the text's own
    HTML is never parsed)."""
    html = Markup('<span class="pending-file"><strong>{}</strong> {}</span>').format(caption, note)
    return Token("html_inline", "", 0, content=str(html))


def _link(href: str, content: str) -> list[Token]:
    return [Token("link_open", "a", 1, attrs={"href": href}), _text(content), Token("link_close", "a", -1)]


def _linked(children: list[Token], people: dict[tuple[str, str], User]) -> list[Token]:
    """`children` with the mentions and tags in their plain text made links; text already in a link stays."""
    result: list[Token] = []
    in_link = 0
    for child in children:
        if child.type == "link_open":
            in_link += 1
        elif child.type == "link_close":
            in_link -= 1
        if child.type != "text" or in_link:
            result.append(child)
            continue
        result.extend(_split(child.content, people))
    return result


def _split(text: str, people: dict[tuple[str, str], User]) -> list[Token]:
    links: list[tuple[int, int, str, str]] = []
    for mention in find_mentions(text):
        person = people.get(mention.key)
        if person is not None:
            links.append((mention.start, mention.end, person_path(person.email), "mention"))
    for start, end, tag in tag_spans(text):
        if not any(s <= start < e for s, e, _, _ in links):
            links.append((start, end, tag_path(tag), "tag"))
    tokens: list[Token] = []
    at = 0
    for start, end, href, kind in sorted(links):
        if start > at:
            tokens.append(_text(text[at:start]))
        opening = Token("link_open", "a", 1, attrs={"href": href, "class": kind})
        tokens += [opening, _text(text[start:end]), Token("link_close", "a", -1)]
        at = end
    if at < len(text):
        tokens.append(_text(text[at:]))
    return tokens


def _text(content: str) -> Token:
    return Token("text", "", 0, content=content)
