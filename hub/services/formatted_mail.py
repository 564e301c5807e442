"""A post's or a comment's body as the HTML part of the mail Plein sends about it.

The mail shows what the page shows (`hub.services.rendering`): the HTML a post came with by mail,
or its Markdown made into HTML, with the same trimming of quotes and signatures. Mail clients do
not share the page's stylesheet and must not load anything from elsewhere, so the HTML is written
again for mail: links made absolute, a few inline styles where formatting needs them (tables,
quotes, code), and every image made a link to its file on Plein, since an image loaded from Plein
would tell Plein who reads, and a private group's file needs a signed-in reader anyway. nh3
cleans the result once more, so nothing but the styles written here reaches the mail.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin

import nh3
from markupsafe import Markup
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.models import Comment, Post
from hub.services import rendering

_STYLES = {
    "a": "color:#0b6bcb;",
    "table": "border-collapse:collapse; margin:8px 0;",
    "th": "border:1px solid #dde2e8; padding:4px 8px; vertical-align:top;",
    "td": "border:1px solid #dde2e8; padding:4px 8px; vertical-align:top;",
    "blockquote": "margin:8px 0; padding:0 12px; border-left:3px solid #dde2e8; color:#5b6675;",
    "pre": "white-space:pre-wrap; margin:8px 0; padding:8px; background:#f4f6f9; font-family:monospace;",
    "code": "font-family:monospace;",
}
_STYLE_PROPERTIES = {
    "color", "border", "border-collapse", "border-left", "margin", "padding", "background", "font-family",
    "vertical-align", "white-space", "text-align",
}
_TAGS = {
    "p", "br", "b", "i", "strong", "em", "u", "s", "del", "a", "ul", "ol", "li", "blockquote", "pre", "code",
    "h1", "h2", "h3", "h4", "h5", "h6", "div", "span", "hr",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col",
}
_ATTRIBUTES = {
    "*": {"style"}, "a": {"href", "title"}, "ol": {"start"},
    "td": {"colspan", "rowspan", "align", "valign"}, "th": {"colspan", "rowspan", "align", "valign"},
    "col": {"span"}, "colgroup": {"span"},
}


def mail_body(session: Session, item: Post | Comment) -> Markup:
    """The body of `item` as its page shows it, made fit for the HTML part of a mail."""
    html = rendering.mail_html(item.body_html) if isinstance(item, Post) and item.body_html else None
    if html is None:
        post = item if isinstance(item, Post) else item.post
        html = rendering.render_bodies(session, [item.body_text], attachments=post.attachments)[item.body_text]
    return for_mail(str(html), context_of(session).url("/"))


def for_mail(html: str, base_url: str) -> Markup:
    """Sanitized page HTML written again for mail clients, with links resolved against `base_url`."""
    writer = _MailWriter(lambda href: urljoin(base_url, href))
    writer.feed(html)
    writer.close()
    return Markup(
        nh3.clean(
            "".join(writer.out), tags=_TAGS, attributes=_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
            filter_style_properties=_STYLE_PROPERTIES, link_rel="noopener noreferrer nofollow",
        )
    )


class _MailWriter(HTMLParser):
    def __init__(self, absolute: Callable[[str], str]) -> None:
        super().__init__(convert_charrefs=True)
        self.absolute = absolute
        self.out: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs if name != "style" or tag in ("th", "td")}
        if tag == "img":
            self._image(values)
            return
        if tag == "a" and values.get("href"):
            values["href"] = self.absolute(values["href"])
        if tag in _STYLES:
            values["style"] = _STYLES[tag] + values.get("style", "")
        self.out.append(f"<{tag}" + "".join(f' {name}="{escape(value)}"' for name, value in values.items()) + ">")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(escape(data, quote=False))

    def _image(self, values: dict[str, str]) -> None:
        """A stored image as a link to it, any other (one the mail carried as data) as its caption."""
        source, caption = values.get("src", ""), values.get("alt", "")
        if source.startswith("/attachments/"):
            caption = caption or unquote(source.rsplit("/", 1)[-1])
            href = escape(self.absolute(source))
            self.out.append(f'<a href="{href}" style="{_STYLES["a"]}">[{escape(caption)}]</a>')
        elif caption:
            self.out.append(f"[{escape(caption)}]")
