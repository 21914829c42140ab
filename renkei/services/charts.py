"""The fiscal-year report's charts as inline SVG, drawn on the server (no JavaScript).

A chart is a picture of a table printed beside it, so the SVG is one image to assistive
technology (role="img", named by its <title> and <desc>) and carries no figure the table lacks.
The page's Content-Security-Policy allows no inline style: everything is a presentation
attribute. Colours are the Okabe–Ito palette (told apart by colour-blind readers), each series
also has a hatching of its own and segments carry their value, so a greyscale print reads too.
The viewBox is 640 units wide: at 100% of an A4 portrait page's text width (about 170 mm)
labels print at about 3 mm.
"""

import hashlib
import math
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from renkei.i18n import gettext as _
from renkei.services.report_tables import Chart, ChartKind, Series

WIDTH = 640
FONT = (
    "'Hiragino Kaku Gothic ProN', 'Hiragino Sans', 'Noto Sans JP', 'Noto Sans CJK JP', "
    "Meiryo, 'Yu Gothic', sans-serif"
)
FONT_SIZE = 12
INK, GRID, MUTED = "#222222", "#cccccc", "#555555"
# Okabe–Ito, ordered so that neighbouring segments differ in lightness as well as hue.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
# One hatching per series (drawn over the colour), the first plain.
HATCHES = ("", "M0,8 L8,0", "M0,4 L8,4", "M0,0 L8,8 M0,8 L8,0", "M4,0 L4,8", "M0,0 L8,8")
ELLIPSIS = "…"


def render(chart: Chart) -> Markup:
    """The chart as an <svg> element to put into a page beside its table."""
    ids = _Ids(chart.key)
    draw = _DRAWERS[chart.kind]
    if _is_empty(chart):
        body, height = _empty(), 60.0
    else:
        body, height = draw(chart, ids)
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "class": "chart",
            "viewBox": f"0 0 {WIDTH} {_n(height)}",
            "width": "100%",
            "role": "img",
            "aria-labelledby": f"{ids.title} {ids.desc}",
            "font-family": FONT,
            "font-size": str(FONT_SIZE),
            "fill": INK,
        },
    )
    ET.SubElement(svg, "title", id=ids.title).text = _clean(chart.title)
    ET.SubElement(svg, "desc", id=ids.desc).text = _clean(chart.description)
    svg.extend(body)
    return Markup(ET.tostring(svg, encoding="unicode"))


# --- Shared pieces ----------------------------------------------------------------------------


class _Ids:
    """Element ids unique on a page holding several charts: from the chart's key, with a
    hash of it so that keys differing only in characters an id cannot hold stay apart."""

    def __init__(self, key: str) -> None:
        slug = re.sub(r"[^A-Za-z0-9_-]", "", key)[:40]
        digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:6]
        self.base = f"chart-{slug}-{digest}"
        self.title, self.desc = f"{self.base}-title", f"{self.base}-desc"

    def pattern(self, index: int) -> str:
        return f"{self.base}-fill{index}"


def _is_empty(chart: Chart) -> bool:
    return not chart.categories or not any(_value(v) for s in chart.series for v in s.values)


def _empty() -> list[ET.Element]:
    note = _text(WIDTH / 2, 35, _("No data"), anchor="middle", fill=MUTED)
    return [note]


def _value(raw: float | None) -> float:
    """A value to draw: missing, not a number or below zero counts as nothing."""
    if raw is None or not math.isfinite(raw) or raw < 0:
        return 0.0
    return float(raw)


def _values(series: Series, count: int) -> list[float]:
    """The series' values, one per category (missing ones 0)."""
    padded = [*series.values, *([0.0] * count)]
    return [_value(v) for v in padded[:count]]


def _clean(text: str) -> str:
    """User text fit for XML: control characters (which XML cannot hold) become spaces."""
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in str(text))


def _cells(char: str) -> int:
    """How many half-width cells a character takes: East-Asian wide ones (and the ellipsis,
    full width in Japanese fonts) two."""
    return 2 if char == ELLIPSIS or unicodedata.east_asian_width(char) in "WF" else 1


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """The width a text takes at ``size``, from its cells (a half-width cell ≈ 0.6 em)."""
    return sum(_cells(c) for c in text) * 0.6 * size


def truncate(text: str, width: float, size: float = FONT_SIZE) -> str:
    """``text`` cut to ``width`` with 「…」 at the end when longer."""
    text = _clean(text)
    if text_width(text, size) <= width:
        return text
    kept, used, room = [], 0.0, width - text_width(ELLIPSIS, size)
    for char in text:
        used += _cells(char) * 0.6 * size
        if used > room:
            break
        kept.append(char)
    return "".join(kept) + ELLIPSIS


def _n(number: float) -> str:
    """A coordinate, short and always the same for the same number."""
    return f"{round(number, 2):g}"


def _text(
    x: float, y: float, text: str, *, anchor: str = "start", full: str = "", **attrs: str
) -> ET.Element:
    """A text; ``full``: the whole label when ``text`` was cut (shown as a tooltip)."""
    element = ET.Element("text", {"x": _n(x), "y": _n(y), "text-anchor": anchor, **attrs})
    element.text = text
    if full and full != text:
        ET.SubElement(element, "title").text = _clean(full)
    return element


def _rect(x: float, y: float, width: float, height: float, fill: str, **attrs: str) -> ET.Element:
    box = {"x": _n(x), "y": _n(y), "width": _n(width), "height": _n(height)}
    return ET.Element("rect", {**box, "fill": fill, **attrs})


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str = GRID) -> ET.Element:
    ends = {"x1": _n(x1), "y1": _n(y1), "x2": _n(x2), "y2": _n(y2)}
    return ET.Element("line", {**ends, "stroke": stroke, "stroke-width": "1"})


def _fills(ids: _Ids, count: int) -> tuple[ET.Element, list[str]]:
    """A <defs> with one pattern per series (colour and hatching) and the fills naming them."""
    defs, fills = ET.Element("defs"), []
    for index in range(count):
        colour, hatch = PALETTE[index % len(PALETTE)], HATCHES[index % len(HATCHES)]
        pattern = ET.SubElement(
            defs,
            "pattern",
            id=ids.pattern(index),
            width="8",
            height="8",
            patternUnits="userSpaceOnUse",
        )
        pattern.append(_rect(0, 0, 8, 8, colour))
        if hatch:
            stroke = _ink_on(colour)
            ET.SubElement(pattern, "path", d=hatch, stroke=stroke, opacity="0.45")
        fills.append(f"url(#{ids.pattern(index)})")
    return defs, fills


def _ink_on(colour: str) -> str:
    """Black or white, whichever reads on ``colour`` (by its relative luminance)."""
    red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "#000000" if luminance > 0.4 else "#ffffff"


def _label_fill(index: int) -> str:
    return _ink_on(PALETTE[index % len(PALETTE)])


def _number(value: float, percent: bool) -> str:
    """A value as people read it: 87.5% or 1,234 (1,234.5 when not whole)."""
    if percent:
        return f"{value * 100:.1f}%"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _axis_max(largest: float, percent: bool) -> tuple[float, float]:
    """The axis' end and its step: 100% for rates, else a round number above the largest."""
    if percent and largest <= 1:
        return 1.0, 0.25
    raw = largest / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    multiples = (1, 2, 2.5, 5, 10) if percent else (1, 2, 5, 10)
    step = next(m * magnitude for m in multiples if m * magnitude >= raw)
    if not percent:
        step = max(step, 1.0)  # counts: whole steps
    return step * math.ceil(largest / step - 1e-9), step


def _ticks(top: float, step: float) -> list[float]:
    return [step * i for i in range(round(top / step) + 1)]


@dataclass(frozen=True)
class _Legend:
    elements: list[ET.Element]
    height: float


def _legend(labels: Sequence[str], fills: Sequence[str], top: float) -> _Legend:
    """Swatches and labels in rows across the width."""
    elements: list[ET.Element] = []
    x, y, row = 0.0, top, 20.0
    for label, fill in zip(labels, fills, strict=True):
        shown = truncate(label, 160)
        width = 20 + text_width(shown) + 16
        if x and x + width > WIDTH:
            x, y = 0.0, y + row
        elements.append(_rect(x, y, 14, 14, fill, stroke=INK, **{"stroke-width": "0.5"}))
        elements.append(_text(x + 20, y + 11.5, shown, full=label))
        x += width
    return _Legend(elements, y + row - top)


# --- Stacked bars: categories along x, a segment per series -------------------------------------


def _stacked_bars(chart: Chart, ids: _Ids) -> tuple[list[ET.Element], float]:
    count = len(chart.categories)
    values = [_values(s, count) for s in chart.series]
    totals = [sum(column) for column in zip(*values, strict=True)]
    defs, fills = _fills(ids, len(chart.series))
    legend = _legend([s.label for s in chart.series], fills, 0)
    top, plot_h, left, right = legend.height + 16, 220.0, 48.0, 8.0
    slot = (WIDTH - left - right) / count
    if _slanted(chart.categories, slot):  # room on the left for the first label's tail
        left = max(left, SLANT_LIMIT * 0.71 - slot / 2 + 4)
        slot = (WIDTH - left - right) / count
    bar_w = slot * 0.7
    axis_top, step = _axis_max(max(totals), chart.percent)
    body = [defs, *legend.elements]
    body += _y_axis(axis_top, step, chart.percent, left, top, plot_h)
    scale = plot_h / axis_top
    for index, category in enumerate(chart.categories):
        x = left + slot * index + (slot - bar_w) / 2
        y = top + plot_h
        for number, series in enumerate(chart.series):
            value = values[number][index]
            if not value:
                continue
            height = value * scale
            y -= height
            body.append(_segment(x, y, bar_w, height, fills[number], category, series.label))
            label = _number(value, chart.percent)
            if height >= FONT_SIZE + 2 and text_width(label) <= bar_w:
                fill = _label_fill(number)
                body.append(
                    _text(x + bar_w / 2, y + height / 2 + 4, label, anchor="middle", fill=fill)
                )
        total = _number(totals[index], chart.percent)
        body.append(_text(x + bar_w / 2, y - 4, total, anchor="middle", **{"class": "total"}))
    labels, bottom = _x_labels(chart.categories, left, slot, top + plot_h)
    return body + labels, bottom


def _segment(
    x: float, y: float, width: float, height: float, fill: str, category: str, series: str
) -> ET.Element:
    segment = _rect(x, y, width, height, fill, stroke="#ffffff", **{"stroke-width": "0.5"})
    segment.set("class", "segment")
    ET.SubElement(segment, "title").text = _clean(f"{category} {series}")
    return segment


def _y_axis(
    top_value: float, step: float, percent: bool, left: float, top: float, height: float
) -> list[ET.Element]:
    elements = []
    for tick in _ticks(top_value, step):
        y = top + height - tick / top_value * height
        elements.append(_line(left, y, WIDTH - 8, y, INK if tick == 0 else GRID))
        label = f"{tick * 100:.0f}%" if percent else _number(tick, False)
        elements.append(_text(left - 6, y + 4, label, anchor="end", fill=MUTED))
    return elements


SLANT_LIMIT = 10 * 2 * 0.6 * FONT_SIZE  # a slanted label: at most 10 full-width characters


def _slanted(categories: Sequence[str], slot: float) -> bool:
    """Whether category labels slant: when one is wider than its slot and slots are narrow."""
    return slot < 80 and any(text_width(_clean(c)) > slot - 4 for c in categories)


def _x_labels(
    categories: Sequence[str], left: float, slot: float, baseline: float
) -> tuple[list[ET.Element], float]:
    """Category labels under the bars, level or slanted (``_slanted``); returns them and the
    chart's height below them."""
    labels = []
    if not _slanted(categories, slot):
        for index, category in enumerate(categories):
            x, shown = left + slot * (index + 0.5), truncate(category, slot - 4)
            labels.append(_text(x, baseline + 16, shown, anchor="middle", full=category))
        return labels, baseline + 26
    for index, category in enumerate(categories):
        x, y = left + slot * (index + 0.5), baseline + 12
        label = _text(x, y, truncate(category, SLANT_LIMIT), anchor="end", full=category)
        label.set("transform", f"rotate(-45 {_n(x)} {_n(y)})")
        labels.append(label)
    return labels, baseline + 16 + SLANT_LIMIT * 0.71


# --- Horizontal bars: one bar per category --------------------------------------------------------

LABEL_W = 168.0  # the column of category labels left of the bars


def _bars(chart: Chart, ids: _Ids) -> tuple[list[ET.Element], float]:
    count, several = len(chart.categories), len(chart.series) > 1
    values = [_values(s, count) for s in chart.series]
    defs, fills = _fills(ids, len(chart.series))
    body: list[ET.Element] = [defs]
    top = 0.0
    if several:
        legend = _legend([s.label for s in chart.series], fills, 0)
        body += legend.elements
        top = legend.height + 8
    bar_h, gap = 18.0, 10.0
    row = bar_h * len(chart.series) + gap
    left, area = LABEL_W + 8, WIDTH - LABEL_W - 8 - 64  # room for the value after the bar
    axis_top, step = _axis_max(max(max(v) for v in values), chart.percent)
    plot_h = row * count
    body += _x_axis(axis_top, step, chart.percent, left, area, top, plot_h)
    for index, category in enumerate(chart.categories):
        y = top + row * index + gap / 2
        shown = truncate(category, LABEL_W)
        label_y = y + row / 2 - gap / 2 + 4
        body.append(_text(LABEL_W, label_y, shown, anchor="end", full=category))
        for number, series in enumerate(chart.series):
            value = values[number][index]
            width = value / axis_top * area
            bar = _rect(left, y, width, bar_h, fills[number], **{"class": "bar"})
            ET.SubElement(bar, "title").text = _clean(f"{category} {series.label}")
            body.append(bar)
            label = _number(value, chart.percent)
            body.append(_text(left + width + 4, y + bar_h / 2 + 4, label, **{"class": "value"}))
            y += bar_h
    return body, top + plot_h + 24


def _x_axis(
    top_value: float,
    step: float,
    percent: bool,
    left: float,
    width: float,
    top: float,
    height: float,
) -> list[ET.Element]:
    elements = []
    for tick in _ticks(top_value, step):
        x = left + tick / top_value * width
        elements.append(_line(x, top, x, top + height, INK if tick == 0 else GRID))
        label = f"{tick * 100:.0f}%" if percent else _number(tick, False)
        tick_label = _text(x, top + height + 16, label, anchor="middle", fill=MUTED)
        tick_label.set("class", "tick")
        elements.append(tick_label)
    return elements


# --- Funnel: the steps in order, centred, as wide as their value ----------------------------------


def _funnel(chart: Chart, ids: _Ids) -> tuple[list[ET.Element], float]:
    count = len(chart.categories)
    values = _values(chart.series[0], count)
    defs, fills = _fills(ids, 1)
    left, area, bar_h, gap = LABEL_W + 8, WIDTH - LABEL_W - 8 - 150, 26.0, 6.0
    centre, largest, first = left + area / 2, max(values), values[0]
    body: list[ET.Element] = [defs]
    for index, category in enumerate(chart.categories):
        value, y = values[index], index * (bar_h + gap)
        width = value / largest * area
        shown = truncate(category, LABEL_W)
        body.append(_text(LABEL_W, y + bar_h / 2 + 4, shown, anchor="end", full=category))
        step = _rect(centre - width / 2, y, width, bar_h, fills[0], **{"class": "step"})
        ET.SubElement(step, "title").text = _clean(category)
        body.append(step)
        share = f"（{value / first * 100:.0f}%）" if first else ""
        label = _number(value, chart.percent) + share
        body.append(_text(left + area + 8, y + bar_h / 2 + 4, label, **{"class": "value"}))
    return body, count * (bar_h + gap) + 4


_DRAWERS: dict[ChartKind, Callable[[Chart, _Ids], tuple[list[ET.Element], float]]] = {
    ChartKind.STACKED_BARS: _stacked_bars,
    ChartKind.BARS: _bars,
    ChartKind.FUNNEL: _funnel,
}
