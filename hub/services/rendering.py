"""Posts and comments as pages show them: Markdown made into sanitized HTML, with `@mentions` and
`#tags` as links.

Most text comes from mail, so a line break stays a line break. Raw HTML in the text is shown as
text, never passed on; what Markdown makes is cleaned once more by nh3 (links keep http, https
and mailto only and get rel="nofollow noopener"). Markdown's parser is quadratic on some input
(thousands of `[`), so text longer than `MARKDOWN_MAX_CHARS` is shown as plain text instead.

A page renders all its bodies with one call, which resolves every mention on it in one query.
"""

from __future__ import annotations

from collections.abc import Iterable

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup
from sqlalchemy.orm import Session

from hub.models import User
from hub.services import document_cards
from hub.services.mentions import find_mentions, resolve
from hub.services.tags import tag_spans
from hub.urls import person_path, tag_path

MARKDOWN_MAX_CHARS = 10_000
"""About 0.15 s for the worst input we know; a mail longer than this is rarely Markdown anyway."""

_MARKDOWN = (
    MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": True, "typographer": False})
    .enable(["linkify", "strikethrough"])
    .disable("image")  # an image from elsewhere would tell its server who reads; `![a](url)` stays a link
)
_ALLOWED_TAGS = {
    "p", "br", "a", "strong", "em", "s", "del", "code", "pre", "blockquote", "ul", "ol", "li", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "class"}, "ol": {"start"}, "code": {"class"}}


def render_bodies(session: Session, texts: Iterable[str], reader: User | None = None) -> dict[str, Markup]:
    """Each text as HTML, keyed by the text itself; every mention in them resolved with one query, and links to
    documents `reader` may see shown as cards."""
    texts = list(dict.fromkeys(texts))
    mentions = [mention for text in texts if len(text) <= MARKDOWN_MAX_CHARS for mention in find_mentions(text)]
    people = resolve(session, mentions)
    return document_cards.with_cards(session, reader, {text: _render(text, people) for text in texts})


def _render(text: str, people: dict[tuple[str, str], User]) -> Markup:
    if len(text) > MARKDOWN_MAX_CHARS:
        return Markup('<pre class="plain">{}</pre>').format(text)
    tokens = _MARKDOWN.parse(text)
    for token in tokens:
        if token.type == "inline" and token.children:
            token.children = _linked(token.children, people)
    html = _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {})
    return Markup(
        nh3.clean(
            html, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
            link_rel="nofollow noopener",
        )
    )


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
