from decimal import Decimal as D
from xml.etree import ElementTree

from pos.reports.charts import bar_chart, compact, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg):
    return ElementTree.fromstring(str(svg))  # noqa: S314 - our own SVG, not untrusted input


def texts(svg) -> list[str]:
    root = parse(svg)
    return [t.text for t in root.iter(f"{SVG}text")]


def test_compact_numbers():
    assert [compact(D(v)) for v in (0, 950, 45600, 1000, 1234567, 250000000)] == [
        "0",
        "950",
        "45.6k",
        "1k",
        "1.2M",
        "250M",
    ]


def test_a_bar_chart_writes_each_value_and_its_axis_labels():
    svg = bar_chart(
        [("09", D(23600)), ("10", D(0)), ("23", D(16520))],
        title="Sales by hour <today>",
        y_label="RWF",
        x_label="Hour",
    )
    root = parse(svg)
    assert root.find(f"{SVG}title").text == "Sales by hour <today>"  # escaped, still parses
    assert len(root.findall(f"{SVG}rect")) == 3
    labels = texts(svg)
    assert "23.6k" in labels and "16.5k" in labels  # values beside the bars
    assert {"09", "10", "23", "RWF", "Hour"} <= set(labels)
    assert "25k" in labels  # the axis top: the next round number above 23,600


def test_a_line_chart_marks_every_point():
    points = [(f"{d:02d}", D(d * 1000)) for d in range(1, 31)]
    svg = line_chart(points, title="Last 30 days", y_label="RWF")
    root = parse(svg)
    assert len(root.findall(f"{SVG}circle")) == 30
    assert "30k" in texts(svg)


def test_an_empty_chart_still_draws():
    assert "<svg" in bar_chart([], title="Nothing yet")
