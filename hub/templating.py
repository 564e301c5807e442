"""The one Jinja2 environment for every page and every mail in `templates/`."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

import templates
from hub.settings import get_settings

TEMPLATES_DIR = Path(templates.__file__).parent


def local_time(moment: datetime, fmt: str = "%d %b %Y %H:%M") -> str:
    return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime(fmt)


@lru_cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local_time"] = local_time
    env.globals["mail_domain"] = get_settings().mail_domain
    return env


@lru_cache
def _mail_templates() -> frozenset[str]:
    """Every mail template, listed once: looked up for each mail Plein writes."""
    return frozenset(environment().list_templates(extensions=["txt"]))


def render_mail(name: str, language: str = "en", **context: object) -> tuple[str, str]:
    """The plain-text and HTML bodies of mail `templates/email/<name>.txt|.html`.

    A reader whose language is not English gets `<name>_<language>` where that pair exists.
    """
    env = environment()
    translated = f"{name}_{language}"
    if language != "en" and f"email/{translated}.txt" in _mail_templates():
        name = translated
    return (
        env.get_template(f"email/{name}.txt").render(**context),
        env.get_template(f"email/{name}.html").render(**context),
    )
