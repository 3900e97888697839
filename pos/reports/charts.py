"""Charts drawn on the server as inline SVG: no JavaScript, no CDN, readable without colour.

Each chart has a title (read out by screen readers), labelled axes, and the value written beside
every bar or point, so nothing depends on telling colours apart; one dark ink is used throughout
and the page shows the same numbers in a table next to it.
"""

from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

INK = "#1d2430"
BAR = "#0b6e4f"
GRID = "#c9d0da"
FAMILY = 'font-family="system-ui, sans-serif"'
FONT = f'{FAMILY} font-size="12"'


def compact(value) -> str:
    """1234567 -> '1.2M', 45600 -> '45.6k', 950 -> '950' (for labels on a chart only)."""
    value = Decimal(value)
    for limit, suffix in ((Decimal(10) ** 9, "G"), (Decimal(10) ** 6, "M"), (Decimal(1000), "k")):
        if abs(value) >= limit:
            scaled = value / limit
            text = f"{scaled:.1f}" if abs(scaled) < 100 else f"{scaled:.0f}"
            return text.removesuffix(".0") + suffix
    return f"{value:.0f}"


def _nice_max(value: Decimal) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 × 10^n at or above `value` (an axis top)."""
    if value <= 0:
        return Decimal(1)
    magnitude = Decimal(10) ** (len(str(int(value))) - 1)
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if value <= magnitude * step:
            return magnitude * step
    return magnitude * 10


class _Frame:
    def __init__(self, values, width, height, left=56, right=12, top=28, bottom=48):
        self.width, self.height = width, height
        self.left, self.right, self.top, self.bottom = left, right, top, bottom
        self.plot_w = width - left - right
        self.plot_h = height - top - bottom
        self.top_value = _nice_max(max((Decimal(v) for v in values), default=Decimal(0)))

    def y(self, value) -> float:
        share = Decimal(value) / self.top_value
        return round(self.top + self.plot_h - float(share) * self.plot_h, 1)

    def axes(self, y_label: str, x_label: str) -> list[str]:
        parts = []
        for i in range(5):
            value = self.top_value * i / 4
            y = self.y(value)
            parts.append(
                f'<line x1="{self.left}" y1="{y}" x2="{self.width - self.right}" y2="{y}" '
                f'stroke="{GRID}" stroke-dasharray="3 3"/>'
                f'<text x="{self.left - 6}" y="{y + 4}" text-anchor="end" {FONT}>'
                f"{compact(value)}</text>"
            )
        base = self.top + self.plot_h
        parts.append(
            f'<line x1="{self.left}" y1="{base}" x2="{self.width - self.right}" y2="{base}" '
            f'stroke="{INK}"/><line x1="{self.left}" y1="{self.top}" x2="{self.left}" '
            f'y2="{base}" stroke="{INK}"/>'
            f'<text x="{self.left}" y="{self.top - 12}" {FONT} font-weight="600">'
            f"{escape(y_label)}</text>"
            f'<text x="{self.left + self.plot_w / 2}" y="{self.height - 4}" text-anchor="middle" '
            f'{FONT} font-weight="600">{escape(x_label)}</text>'
        )
        return parts


def _svg(title: str, width: int, height: int, parts: list[str]) -> SafeString:
    body = "".join(parts)
    return mark_safe(  # noqa: S308 - every text in `parts` went through escape()
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" aria-labelledby="chart-title">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def _x_labels(frame: _Frame, labels, centres) -> list[str]:
    # Label every bar when they fit, else every k-th (the table beside has them all).
    every = max(1, -(-len(labels) * 34 // max(frame.plot_w, 1)))
    base = frame.top + frame.plot_h
    return [
        f'<text x="{x}" y="{base + 14}" text-anchor="middle" {FONT}>{escape(label)}</text>'
        for i, (label, x) in enumerate(zip(labels, centres, strict=True))
        if i % every == 0
    ]


def short(label: str, limit: int = 16) -> str:
    """A label cut to fit under a bar, with an ellipsis when cut."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _value_label(x: float, y: float, value, crowded: bool) -> str:
    if crowded:  # written upwards so thirty numbers do not run into each other
        return (
            f'<text x="{x + 3}" y="{y - 4}" transform="rotate(-90 {x + 3} {y - 4})" '
            f'{FAMILY} font-size="10">{compact(value)}</text>'
        )
    return f'<text x="{x}" y="{y - 4}" text-anchor="middle" {FONT}>{compact(value)}</text>'


def bar_chart(
    points: list[tuple[str, Decimal]],
    *,
    title: str,
    y_label: str = "",
    x_label: str = "",
    width: int = 720,
    height: int = 260,
) -> SafeString:
    """A vertical bar chart of (label, value) points, each bar with its value written on top."""
    values = [value for _, value in points]
    crowded = len(points) > 14
    frame = _Frame(values, width, height, top=48 if crowded else 28)
    slot = frame.plot_w / max(len(points), 1)
    bar_w = max(2.0, slot * 0.7)
    parts = frame.axes(y_label, x_label)
    centres = []
    for i, (_label, value) in enumerate(points):
        x = round(frame.left + slot * i + (slot - bar_w) / 2, 1)
        y = frame.y(max(Decimal(value), Decimal(0)))
        centres.append(round(x + bar_w / 2, 1))
        parts.append(
            f'<rect x="{x}" y="{y}" width="{round(bar_w, 1)}" '
            f'height="{round(frame.top + frame.plot_h - y, 1)}" fill="{BAR}" stroke="{INK}" '
            f'stroke-width="0.5"/>'
        )
        if value:
            parts.append(_value_label(centres[-1], y, value, crowded))
    parts += _x_labels(frame, [label for label, _ in points], centres)
    return _svg(title, width, height, parts)


def line_chart(
    points: list[tuple[str, Decimal]],
    *,
    title: str,
    y_label: str = "",
    x_label: str = "",
    width: int = 720,
    height: int = 260,
) -> SafeString:
    """A line of (label, value) points, each marked with a dot and its value."""
    values = [value for _, value in points]
    crowded = len(points) > 14
    frame = _Frame(values, width, height, top=48 if crowded else 28)
    slot = frame.plot_w / max(len(points), 1)
    parts = frame.axes(y_label, x_label)
    coords = [
        (round(frame.left + slot * i + slot / 2, 1), frame.y(max(Decimal(v), Decimal(0))))
        for i, v in enumerate(values)
    ]
    if coords:
        path = " ".join(f"{x},{y}" for x, y in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{INK}" stroke-width="2"/>')
    for (x, y), value in zip(coords, values, strict=True):
        parts.append(f'<circle cx="{x}" cy="{y}" r="3" fill="{INK}"/>')
        parts.append(_value_label(x, y - 2, value, crowded))
    parts += _x_labels(frame, [label for label, _ in points], [x for x, _ in coords])
    return _svg(title, width, height, parts)
