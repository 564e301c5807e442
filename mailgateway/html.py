"""HTML from mail made safe to show, and made into text to index.

Mail HTML is hostile by default: scripts, event handlers, and remote images that tell the
sender when and where a message was read. `sanitize_html` keeps ordinary formatting and
drops everything that could run or phone home; only `cid:` and `data:image/` images survive,
because those travel inside the mail itself. `html_to_text` gives the readable text of an
HTML-only mail, for the body and for the search index.
"""

from __future__ import annotations

import re

import html2text
import nh3

_TAGS = {
    "p", "br", "b", "i", "strong", "em", "u", "a", "ul", "ol", "li", "blockquote", "pre", "code",
    "h1", "h2", "h3", "h4", "h5", "h6", "div", "span", "img", "hr",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align", "valign"},
    "th": {"colspan", "rowspan", "align", "valign"},
    "col": {"span"},
    "colgroup": {"span"},
}
# Containers in which clients put the quoted thread or the signature of an HTML reply.
_QUOTE_CONTAINER = re.compile(r"gmail_quote|gmail_signature|yahoo_quoted|messageReplySection", re.IGNORECASE)
_LINK_SCHEMES = ("http:", "https:", "mailto:")
_IMAGE_SCHEMES = ("cid:", "data:image/")


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    scheme = value.strip().lower()
    if tag == "img" and attribute == "src":
        return value if scheme.startswith(_IMAGE_SCHEMES) else None
    if tag == "a" and attribute == "href":
        return value if scheme.startswith(_LINK_SCHEMES) or scheme.startswith("#") else None
    return value


_cleaner = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags={"script", "style", "title", "head", "iframe", "object", "noscript", "template"},
    attributes=_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    link_rel="noopener noreferrer nofollow",
    url_schemes={"http", "https", "mailto", "cid", "data"},
)


def sanitize_html(html: str) -> str:
    """Formatting only: no scripts, handlers, styles, forms or remotely loaded images."""
    return _cleaner.clean(html).strip()


def html_to_text(html: str) -> str:
    """Readable text, with quoted threads as `>` lines so reply trimming can drop them."""
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.unicode_snob = True
    converter.ul_item_mark = "-"
    converter.tag_callback = _quote_containers_as_blockquotes()
    try:
        text = converter.handle(html)
    except Exception:  # html2text trips over some broken markup; fall back to bare text
        text = nh3.clean(html, tags=set(), clean_content_tags={"script", "style", "title", "head"})
    text = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return re.sub(r"\n{3,}", "\n\n", text)


def _quote_containers_as_blockquotes():
    opened: list[bool] = []

    def render(converter: html2text.HTML2Text, tag: str, attrs: dict, start: bool) -> bool | None:
        if tag != "div":
            return None
        if start:
            # A container that holds the whole mail is no quote: it is what the sender wrote
            # (an Exchange reply whose only section is the reply section, a forward).
            opened.append(
                any(_QUOTE_CONTAINER.search(attrs.get(name) or "") for name in ("class", "id", "name"))
                and any(chunk.strip() for chunk in converter.outtextlist)
            )
            is_quote = opened[-1]
        else:
            is_quote = opened.pop() if opened else False
        if not is_quote:
            return None
        converter.handle_tag("blockquote", {}, start)
        return True

    return render
