"""The report's charts: SVG that parses, names itself to assistive technology, draws bars in
proportion to the figures, escapes what people typed and prints within an A4 page."""

import xml.etree.ElementTree as ET

import pytest

from renkei.services import charts
from renkei.services.report_tables import Chart, ChartKind, Series

NS = {"svg": "http://www.w3.org/2000/svg"}
SVG = "{http://www.w3.org/2000/svg}"


def monthly(key: str = "monthly") -> Chart:
    return Chart(
        key=key,
        kind=ChartKind.STACKED_BARS,
        title="月別の開催回数",
        description="月ごとの開催回数を開催形態別に積み上げたグラフ。",
        categories=["4月", "5月", "6月"],
        series=[
            Series("単独", [2, 1, 0]),
            Series("共同開催", [1, 3, 0]),
            Series("書面開催", [1, 0, 2]),
        ],
    )


def attendance(values: list[float], percent: bool = True) -> Chart:
    return Chart(
        key="attendance",
        kind=ChartKind.BARS,
        title="会議体別の出席率",
        description="会議体ごとの平均出席率。",
        categories=[f"会議体{i}" for i in range(len(values))],
        series=[Series("出席率", values)],
        percent=percent,
    )


def funnel(values: list[float]) -> Chart:
    return Chart(
        key="referrals",
        kind=ChartKind.FUNNEL,
        title="つなぎの状況",
        description="受付からの進み具合。",
        categories=["受付", "連絡済", "接触済", "支援開始"][: len(values)],
        series=[Series("件数", values)],
    )


def parse(chart: Chart) -> ET.Element:
    return ET.fromstring(str(charts.render(chart)))


def rects(svg: ET.Element, css_class: str) -> list[ET.Element]:
    return [r for r in svg.iter(f"{SVG}rect") if r.get("class") == css_class]


def texts(svg: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]


def own_texts(svg: ET.Element) -> list[str]:
    """What the texts show (their tooltips left out)."""
    return [t.text or "" for t in svg.iter(f"{SVG}text")]


def test_every_kind_names_itself_with_a_title_and_a_description(ctx):
    for chart in (monthly(), attendance([0.5, 0.75]), funnel([10, 5])):
        svg = parse(chart)
        assert svg.get("role") == "img"
        title, desc = svg.find("svg:title", NS), svg.find("svg:desc", NS)
        assert title.text == chart.title and desc.text == chart.description
        assert svg.get("aria-labelledby").split() == [title.get("id"), desc.get("id")]


def test_ids_are_unique_across_the_charts_of_a_page(ctx):
    """A page holds several charts: their ids (title, desc, fill patterns) never meet, even
    for keys that differ only in characters an id cannot hold."""
    page = [monthly("a/b"), monthly("a b"), attendance([0.5]), funnel([3, 2])]
    ids = [e.get("id") for chart in page for e in parse(chart).iter() if e.get("id")]
    assert len(ids) == len(set(ids)) > 8
    svg = parse(monthly())
    for segment in rects(svg, "segment"):  # the fills name patterns of this chart
        pattern_id = segment.get("fill").removeprefix("url(#").removesuffix(")")
        assert svg.find(f".//svg:pattern[@id='{pattern_id}']", NS) is not None


def test_stacked_segments_are_as_tall_as_their_values(ctx):
    svg = parse(monthly())
    segments = rects(svg, "segment")
    heights = [float(s.get("height")) for s in segments]
    # 4月: 2+1+1, 5月: 1+3, 6月: 2 -> six segments (zeros drawn as none)
    assert len(segments) == 6
    unit = heights[0] / 2
    assert heights == pytest.approx([2 * unit, unit, unit, unit, 3 * unit, 2 * unit])
    # each column stands on the same baseline, segments stacked without gaps
    april = segments[:3]
    for lower, upper in zip(april, april[1:], strict=False):
        assert float(upper.get("y")) + float(upper.get("height")) == pytest.approx(
            float(lower.get("y"))
        )
    assert "4" in own_texts(svg)  # the column's total above it
    assert {"単独", "共同開催", "書面開催"} <= set(own_texts(svg))  # the legend


def test_series_differ_by_hatching_as_well_as_by_colour(ctx):
    svg = parse(monthly())
    patterns = svg.findall(".//svg:pattern", NS)
    colours = [p.find("svg:rect", NS).get("fill") for p in patterns]
    hatchings = [p.find("svg:path", NS) for p in patterns]
    assert len(set(colours)) == 3
    assert hatchings[0] is None and {h.get("d") for h in hatchings[1:]} == {
        "M0,8 L8,0",
        "M0,4 L8,4",
    }


def test_horizontal_bars_are_as_long_as_their_values_and_labelled(ctx):
    svg = parse(attendance([0.5, 0.875, 0.25]))
    widths = [float(b.get("width")) for b in rects(svg, "bar")]
    assert widths[1] / widths[0] == pytest.approx(0.875 / 0.5)
    assert widths[2] / widths[0] == pytest.approx(0.5)
    values = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "value"]
    assert values == ["50.0%", "87.5%", "25.0%"]
    # the value stands just past its bar's end
    bars = rects(svg, "bar")
    ends = [float(b.get("x")) + float(b.get("width")) for b in bars]
    starts = [float(t.get("x")) for t in svg.iter(f"{SVG}text") if t.get("class") == "value"]
    assert [s - e for s, e in zip(starts, ends, strict=True)] == pytest.approx([4, 4, 4])


def test_a_percent_chart_has_a_percent_axis_to_100(ctx):
    svg = parse(attendance([0.5, 0.9]))
    ticks = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert ticks == ["0%", "25%", "50%", "75%", "100%"]
    # a full bar reaches the 100% tick
    full = parse(attendance([1.0, 0.5]))
    bar = rects(full, "bar")[0]
    hundred = [t for t in full.iter(f"{SVG}text") if t.get("class") == "tick"][-1]
    assert float(bar.get("x")) + float(bar.get("width")) == pytest.approx(float(hundred.get("x")))


def test_a_count_chart_has_a_round_count_axis(ctx):
    svg = parse(attendance([7, 3], percent=False))
    ticks = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert ticks == ["0", "2", "4", "6", "8"]
    assert [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "value"] == ["7", "3"]


def test_funnel_steps_are_centred_narrowing_with_their_share_of_the_first(ctx):
    svg = parse(funnel([20, 15, 5, 0]))
    steps = rects(svg, "step")
    widths = [float(s.get("width")) for s in steps]
    assert widths == pytest.approx([widths[0], widths[0] * 0.75, widths[0] * 0.25, 0])
    centres = {round(float(s.get("x")) + float(s.get("width")) / 2, 2) for s in steps}
    assert len(centres) == 1
    values = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "value"]
    assert values == ["20（100%）", "15（75%）", "5（25%）", "0（0%）"]


def test_a_funnel_starting_at_zero_shows_no_share(ctx):
    svg = parse(funnel([0, 3]))
    values = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "value"]
    assert values == ["0", "3"]


@pytest.mark.parametrize(
    "chart",
    [
        monthly().__class__(**{**monthly().__dict__, "series": []}),
        monthly().__class__(**{**monthly().__dict__, "categories": []}),
        attendance([0, 0]),
        funnel([0, 0, 0]),
    ],
    ids=["no series", "no categories", "all zero bars", "all zero funnel"],
)
def test_an_empty_chart_says_so_without_dividing_by_zero(ctx, chart):
    svg = parse(chart)
    assert own_texts(svg) == ["データがありません"]
    assert svg.find("svg:title", NS).text == chart.title
    assert not list(svg.iter(f"{SVG}rect"))


def test_user_text_is_escaped_and_parses_back_unchanged(ctx):
    evil = "<script>alert(\"x\")</script> & 'q'"
    chart = Chart(
        key="evil",
        kind=ChartKind.BARS,
        title=f"題 {evil}",
        description=f"説明 {evil}",
        categories=["A&B", '"quoted"', "<b>x</b>"],
        series=[Series(evil, [1, 2, 3])],
    )
    markup = str(charts.render(chart))
    assert "<script" not in markup and "<b>" not in markup
    svg = ET.fromstring(markup)
    assert svg.find("svg:title", NS).text == f"題 {evil}"
    assert svg.find("svg:desc", NS).text == f"説明 {evil}"
    assert {"A&B", '"quoted"', "<b>x</b>"} <= set(own_texts(svg))


def test_control_characters_in_user_text_do_not_break_the_xml(ctx):
    chart = attendance([0.5])
    chart = chart.__class__(**{**chart.__dict__, "categories": ["改行\nと\x0bタブ\t"]})
    svg = parse(chart)
    assert "改行 と タブ " in own_texts(svg)


def test_long_labels_are_cut_with_an_ellipsis_and_kept_whole_in_a_tooltip(ctx):
    long_name = "社会福祉協議会" * 6
    chart = attendance([0.5, 0.6])
    chart = chart.__class__(**{**chart.__dict__, "categories": [long_name, "短い名前"]})
    svg = parse(chart)
    shown = own_texts(svg)
    cut = next(t for t in shown if t.startswith("社会福祉協議会"))
    assert cut.endswith("…") and len(cut) < len(long_name)
    assert charts.text_width(cut) <= charts.LABEL_W
    assert "短い名前" in shown
    tooltip = next(t for t in svg.iter(f"{SVG}text") if (t.text or "") == cut).find("svg:title", NS)
    assert tooltip.text == long_name


def test_many_long_categories_slant_and_stay_inside_the_picture(ctx):
    categories = [f"とても長い会議体の名前その{i}" for i in range(12)]
    chart = Chart(
        key="many",
        kind=ChartKind.STACKED_BARS,
        title="t",
        description="d",
        categories=categories,
        series=[Series("s", [1] * 12)],
    )
    svg = parse(chart)
    height = float(svg.get("viewBox").split()[3])
    slanted = [t for t in svg.iter(f"{SVG}text") if t.get("transform")]
    assert len(slanted) == 12 and all(t.text.endswith("…") for t in slanted)
    assert all(float(t.get("y")) < height for t in slanted)
    # a label's far end (anchored at its end, slanted 45°) stays right of the picture's edge
    assert all(float(t.get("x")) - charts.text_width(t.text) * 0.71 >= 0 for t in slanted)


def test_the_picture_fits_a_printed_page_and_references_nothing_outside(ctx):
    for chart in (monthly(), attendance([0.5]), funnel([3, 1])):
        markup = str(charts.render(chart))
        svg = ET.fromstring(markup)
        x, y, width, height = (float(v) for v in svg.get("viewBox").split())
        assert (x, y, width) == (0, 0, 640) and 0 < height <= 640 * 297 / 210
        assert svg.get("width") == "100%" and svg.get("height") is None
        assert "Noto Sans CJK JP" in svg.get("font-family")
        assert "http" not in markup.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "href" not in markup and "style" not in markup and "<script" not in markup


def test_the_same_chart_draws_the_same_svg(ctx):
    assert charts.render(monthly()) == charts.render(monthly())
