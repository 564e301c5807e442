"""The Jinja2 environments for every page and every mail in `templates/`, one per language.

One template serves every language: its words go through gettext (`_()`, `{% trans %}`,
`ngettext`) and come from the catalogue in hub/locale, read from the `.po` files and compiled
in memory once per process, so no compiled `.mo` file is built or committed. Dates and
numbers are written by Babel for the reader's locale (docs/translations.md).
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

import templates
from hub.locale import LANGUAGES, LOCALE_DIR, SOURCE_LANGUAGE
from hub.settings import Settings
from mailgateway import addresses
from mailgateway.addresses import Route

TEMPLATES_DIR = Path(templates.__file__).parent


def format_moment(moment: datetime, language: str, zone: str, date: str = "yMMMd") -> str:
    """`moment` as a reader of `language` in time zone `zone` reads it: 5 Jan 2025, 14:30; `date` is a
    CLDR skeleton (`MMMd` leaves out the year)."""
    locale = Locale.parse(language)
    local = moment.astimezone(ZoneInfo(zone))
    return locale.datetime_formats["medium"].format(
        format_time(local, "short", locale=locale), format_skeleton(date, local, locale=locale)
    )


def format_clock(moment: datetime, language: str, zone: str) -> str:
    return format_time(moment.astimezone(ZoneInfo(zone)), "short", locale=Locale.parse(language))


AVATAR_COLOURS = (
    "#1f5fa8", "#2e7d32", "#8e24aa", "#c62828", "#ad1457", "#00695c", "#5d4037", "#4527a0", "#b45309", "#37474f",
    "#0277bd", "#9a3412",
)
"""Backgrounds for white initials, each at least 4.5:1 against white (WCAG AA for small text)."""


@dataclass(frozen=True)
class Avatar:
    initials: str
    colour: str
    photo: str = ""
    """The address of their profile photo without its size (`&size=64` or `256`), or "" for none."""


_photo_versions: ContextVar[Callable[[str], str | None] | None] = ContextVar("photo_versions", default=None)


@contextmanager
def showing_photos(version_of: Callable[[str], str | None]) -> Iterator[None]:
    """While a page renders: avatars show the photo of each person `version_of(email)` gives a version for, asked
    once per person on the page, when their first avatar is drawn.

    A context variable rather than an argument: avatars are drawn by macros (templates/web/_person.html) that
    pages import without their context, wherever a name appears.
    """
    token = _photo_versions.set(functools.cache(version_of))
    try:
        yield
    finally:
        _photo_versions.reset(token)


def avatar(name: str, email: str = "") -> Avatar:
    """Initials of `name` (or of the address when there is no name) on a colour that stays the person's, and their
    photo if they have one and the page shows photos (`showing_photos`)."""
    words = name.split() or [email.partition("@")[0] or "?"]
    initials = (words[0][0] + (words[-1][0] if len(words) > 1 else "")).upper()
    colour = AVATAR_COLOURS[zlib.crc32((name or email).casefold().encode()) % len(AVATAR_COLOURS)]
    version_of = _photo_versions.get()
    version = version_of(email) if version_of and email else None
    return Avatar(initials, colour, f"/people/{quote(email, safe='@')}/photo?v={version}" if version else "")


def _translations(language: str) -> NullTranslations:
    if language == SOURCE_LANGUAGE:
        return NullTranslations()
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)  # fuzzy translations are left out: they show in English
    compiled.seek(0)
    return Translations(compiled)


def _environment(language: str, translations: NullTranslations, zone: str, mail_domain: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True  # a {% trans %} block's line breaks are layout, not words
    env.install_gettext_translations(translations, newstyle=True)

    @pass_context
    def local_time(context: Context, moment: datetime, date: str = "yMMMd") -> str:
        """In the time zone of the context's `zone` (a mail's recipient), else the installation's."""
        return format_moment(moment, language, context.get("zone") or zone, date)

    @pass_context
    def clock(context: Context, moment: datetime) -> str:
        return format_clock(moment, language, context.get("zone") or zone)

    env.filters["local_time"] = local_time
    env.filters["clock"] = clock
    env.filters["number"] = lambda number, pattern=None: format_decimal(number, pattern, locale=language)
    env.filters["percent"] = lambda share: format_percent(share, "#,##0.#%", locale=language)
    env.filters["day"] = lambda moment: format_skeleton("yMMMd", moment, locale=language)
    env.filters["weekday"] = lambda day: Locale.parse(language).days["format"]["wide"][day].capitalize()  # 0 is Monday
    env.globals["group_address"] = lambda slug: addresses.address(Route("group", slug), mail_domain)
    env.globals["anonymous_address"] = lambda slug: addresses.address(Route(addresses.ANONYMOUS, slug), mail_domain)
    env.globals["language"] = language
    env.globals["avatar"] = avatar
    return env


@dataclass(frozen=True)
class Catalogue:
    """Every language's words and templates, built once per process (`hub.context.Context.catalogue`)."""

    translations: dict[str, NullTranslations]
    environments: dict[str, Environment]
    default_language: str

    def known(self, language: str | None) -> str:
        """`language` if Plein speaks it, else the installation's default."""
        return language if language in LANGUAGES else self.default_language

    def translator(self, language: str | None) -> NullTranslations:
        """`gettext` and `ngettext` in `language`, for words written outside a template (a mail's subject)."""
        return self.translations[self.known(language)]

    def environment(self, language: str | None = SOURCE_LANGUAGE) -> Environment:
        return self.environments[self.known(language)]

    def render_mail(self, name: str, language: str | None = SOURCE_LANGUAGE, **context: object) -> tuple[str, str]:
        """The plain-text and HTML bodies of mail `templates/email/<name>.txt|.html`, in `language`.

        Times in it are in the time zone of the context's `recipient`, if any.
        """
        env = self.environment(language)
        recipient = context.get("recipient")
        context.setdefault("zone", getattr(recipient, "timezone", None))
        return (
            env.get_template(f"email/{name}.txt").render(**context),
            env.get_template(f"email/{name}.html").render(**context),
        )


def build_catalogue(settings: Settings) -> Catalogue:
    """The catalogue for an installation's time zone, mail domain and default language."""
    translations = {language: _translations(language) for language in LANGUAGES}
    environments = {
        language: _environment(language, translations[language], settings.timezone, settings.mail_domain)
        for language in LANGUAGES
    }
    return Catalogue(translations, environments, settings.default_language)
