"""The plots of `/stats`, drawn on the server as SVG by pygal and put inline in the page.

Pygal adds a small script of its own for tooltips; the page runs none (hub/web/security.py), so it is taken out,
with pygal's comments. Each plot is hidden from screen readers: the table beside it holds the same numbers.
"""

from __future__ import annotations

import re

import pygal
from markupsafe import Markup
from pygal.style import Style

_SCRIPT = re.compile(r"<script\b.*?</script>|<!--.*?-->", re.DOTALL)
STYLE = Style(
    background="#ffffff", plot_background="#ffffff", foreground="#1d2430", foreground_strong="#1d2430",
    foreground_subtle="#5b6675", colors=("#0b6bcb", "#c05a00", "#2f7d32", "#7b3fa0"),
    font_family="system-ui, sans-serif", label_font_size=13, major_label_font_size=13, legend_font_size=14,
    value_font_size=13,
)
OPTIONS = {
    "style": STYLE, "js": [], "disable_xml_declaration": True, "explicit_size": False, "width": 800, "height": 320,
    "legend_at_bottom": True, "legend_at_bottom_columns": 3, "show_minor_x_labels": False, "x_label_rotation": 0,
    "print_values": False, "margin": 12,
}


def _inline(chart) -> Markup:
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
    return Markup(svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1))


def whole_numbers(highest: int, ticks: int = 5) -> list[int]:
    """Marks on an axis of people: whole numbers only, about `ticks` of them up to `highest`.

    >>> whole_numbers(3), whole_numbers(0), whole_numbers(1234)
    ([0, 1, 2, 3], [0, 1], [0, 247, 494, 741, 988, 1235])
    """
    step = max(1, -(-highest // ticks))
    return list(range(0, max(highest, 1) + step, step))


def over_time(labels: list[str], series: dict[str, list[int]]) -> Markup:
    """People per day, week or month: one line per measure."""
    chart = pygal.Line(**OPTIONS, x_labels_major_count=8)
    chart.x_labels = labels
    chart.y_labels = whole_numbers(max((max(values, default=0) for values in series.values()), default=0))
    for name, values in series.items():
        chart.add(name, values)
    return _inline(chart)


def shares(bars: dict[str, float]) -> Markup:
    """The funnel: each measure as a share of everyone in scope, in per cent."""
    chart = pygal.HorizontalBar(
        **{**OPTIONS, "height": 60 + 40 * len(bars), "show_legend": False, "print_values": True},
        range=(0, 100), value_formatter=lambda v: f"{v:.0f}%",
    )
    chart.x_labels = list(bars)
    chart.add("", [round(value * 100, 1) for value in bars.values()])
    return _inline(chart)
