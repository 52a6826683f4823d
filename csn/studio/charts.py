"""Small charts as inline SVG, drawn on the server: no script, no CDN, readable without JavaScript and
by screen readers (each chart has a title and a text summary)."""

from django.utils.html import format_html, format_html_join

PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"]


def _nice_max(value: float) -> int:
    if value <= 5:
        return 5
    step = 10 ** (len(str(int(value))) - 1)
    return int(-(-value // step) * step)


def bar_chart(points: list[tuple[str, int]], *, title: str, width: int = 420, height: int = 140):
    """Vertical bars, one per (label, value); the first and last labels and the top value are written."""
    top = _nice_max(max((v for _, v in points), default=0))
    left, bottom, plot_h = 28, 18, height - 28
    slot = (width - left - 4) / max(len(points), 1)
    bars = []
    for i, (label, value) in enumerate(points):
        bar_h = plot_h * value / top if top else 0
        x = left + i * slot + 1
        bars.append(
            (
                f"{x:.1f}",
                f"{height - bottom - bar_h:.1f}",
                f"{max(slot - 2, 1):.1f}",
                f"{bar_h:.1f}",
                f"{label}: {value}",
            )
        )
    first = points[0][0] if points else ""
    last = points[-1][0] if points else ""
    return format_html(
        '<svg class="csn-chart" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" aria-label="{t}">'
        "<title>{t}</title>"
        '<line x1="{l}" y1="{base}" x2="{w}" y2="{base}" stroke="#9ca3af"/>'
        '<text x="{lt}" y="14" font-size="10" text-anchor="end" fill="#6b7280">{top}</text>'
        '<text x="{lt}" y="{base}" font-size="10" text-anchor="end" fill="#6b7280">0</text>'
        "{bars}"
        '<text x="{l}" y="{h1}" font-size="10" fill="#6b7280">{first}</text>'
        '<text x="{w}" y="{h1}" font-size="10" text-anchor="end" fill="#6b7280">{last}</text>'
        "</svg>",
        w=width,
        h=height,
        t=title,
        l=left,
        lt=left - 4,
        base=height - bottom,
        h1=height - 4,
        top=top,
        first=first,
        last=last,
        bars=format_html_join(
            "",
            '<rect x="{}" y="{}" width="{}" height="{}" fill="#2563eb"><title>{}</title></rect>',
            bars,
        ),
    )


def line_chart(series: list[tuple[str, list[int]]], *, labels: list[str], title: str, width=420, plot_h=100):
    """One line per (name, values), values at the same `labels` (times); a legend below, three a row."""
    top = _nice_max(max((v for _, values in series for v in values), default=0))
    left = 28
    height = plot_h + 36 + 14 * (-(-len(series) // 3))
    count = max(len(labels), 2)
    step = (width - left - 6) / (count - 1)
    base = 10 + plot_h
    lines, legend = [], []
    for index, (name, values) in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        coords = " ".join(
            f"{left + i * step:.1f},{base - (plot_h * v / top if top else 0):.1f}" for i, v in enumerate(values)
        )
        lines.append((coords, colour, f"{name}: {values[-1] if values else 0} now"))
        legend.append((left + (index % 3) * 130, base + 30 + (index // 3) * 14, colour, name[:22]))
    return format_html(
        '<svg class="csn-chart" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" aria-label="{t}">'
        "<title>{t}</title>"
        '<line x1="{l}" y1="{base}" x2="{w}" y2="{base}" stroke="#9ca3af"/>'
        '<text x="{lt}" y="14" font-size="10" text-anchor="end" fill="#6b7280">{top}</text>'
        '<text x="{lt}" y="{base}" font-size="10" text-anchor="end" fill="#6b7280">0</text>'
        "{lines}"
        '<text x="{l}" y="{lb}" font-size="10" fill="#6b7280">{first}</text>'
        '<text x="{w}" y="{lb}" font-size="10" text-anchor="end" fill="#6b7280">{last}</text>'
        "{legend}"
        "</svg>",
        w=width,
        h=height,
        t=title,
        l=left,
        lt=left - 4,
        base=base,
        lb=base + 12,
        top=top,
        first=labels[0] if labels else "",
        last=labels[-1] if labels else "",
        lines=format_html_join(
            "",
            '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"><title>{}</title></polyline>',
            lines,
        ),
        legend=format_html_join(
            "",
            '<g transform="translate({},{})"><rect y="-8" width="8" height="8" fill="{}"/>'
            '<text x="12" font-size="10" fill="#374151">{}</text></g>',
            legend,
        ),
    )
