"""The report as one self-contained HTML page: inline CSS, inline SVG charts, a few lines of
inline script, nothing fetched from anywhere, so it opens from `file://` and offline.

Every chart is a `<figure data-chart="...">` whose drawn shapes carry the class `mark`. The
script at the end of the page checks, once the browser has laid the page out, that each
chart's SVG has a size and marks, and records it on the figure (`data-rendered`).
"""

from __future__ import annotations

import html
import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone

from report.data import Bird, DailyCount, ReportData, Source, TokenKind, median

CHARTS = ("incidents-per-day", "top-sources", "time-to-acknowledge", "tokens", "bird-health")
PALETTE = (
    "#3b6fb6", "#e07b39", "#4e9f50", "#c94c4c", "#8a63b8",
    "#2aa6a6", "#c9a227", "#7f7f7f",
)  # fmt: skip
OTHER_CATEGORY = "Other"
LIVE_COLOUR, OFFLINE_COLOUR = "#4e9f50", "#c94c4c"
# Buckets of the time-to-acknowledge histogram: (label, upper bound in seconds).
ACK_BUCKETS = (
    ("< 1 min", 60),
    ("1-5 min", 300),
    ("5-15 min", 900),
    ("15-60 min", 3600),
    ("1-4 h", 4 * 3600),
    ("4-24 h", 86400),
    ("1-7 days", 7 * 86400),
    ("> 7 days", math.inf),
)
WIDTH = 920
TOP_TOKEN_KINDS = 12


def render(data: ReportData, generated_at: datetime | None = None) -> str:
    generated = (generated_at or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    consoles = ", ".join(data.consoles) or "no console yet"
    ttas = data.seconds_to_acknowledge
    offline = sum(1 for bird in data.birds if not bird.live)
    behind = sum(1 for bird in data.birds if bird.firmware_available)
    never = sum(kind.never_triggered for kind in data.tokens)
    tiles = [
        ("Incidents", str(data.incidents)),
        ("Unacknowledged", str(data.unacknowledged)),
        ("Median time to acknowledge", duration(median(ttas))),
        ("Attacker sources", str(data.source_count)),
        ("Birds offline", f"{offline} of {len(data.birds)}"),
        ("Birds behind on firmware", f"{behind} of {len(data.birds)}"),
        ("Tokens never triggered", f"{never} of {sum(kind.tokens for kind in data.tokens)}"),
    ]
    sections = [
        figure(
            "incidents-per-day",
            "Incidents per day, by category",
            daily_chart(data.daily),
            "Every incident on the UTC day it was created, stacked by logtype category.",
        ),
        figure(
            "top-sources",
            f"Top {len(data.sources)} attacker sources",
            sources_chart(data.sources, len(data.consoles) > 1),
            "Incidents per source address; hover a bar for first and last seen, birds and "
            "tokens touched and credentials tried. Operational incidents are left out.",
        ),
        figure(
            "time-to-acknowledge",
            "Time to acknowledge",
            acknowledge_chart(ttas),
            f"{len(ttas)} acknowledged incidents, from creation to acknowledgement; "
            f"{data.unacknowledged} still wait.",
        ),
        figure(
            "tokens",
            "Canarytokens triggered, per kind",
            tokens_chart(data.tokens),
            f"Times triggered (events of the token's incidents), for the {TOP_TOKEN_KINDS} "
            "busiest kinds; the label gives how many tokens of the kind fired out of how many "
            "there are.",
        ),
        figure(
            "bird-health",
            "Bird health",
            birds_chart(data.birds),
            "Every bird: live or offline, how long it has been down, its firmware version (and the "
            "newer one the console offers, if it is behind).",
        ),
    ]
    tile_html = "".join(
        f'<div class="tile"><div class="value">{esc(value)}</div>'
        f'<div class="label">{esc(label)}</div></div>'
        for label, value in tiles
    )
    return PAGE.format(
        title="Thinkst Canary report",
        consoles=esc(consoles),
        source=esc(data.source),
        generated=esc(generated),
        tiles=tile_html,
        sections="\n".join(sections),
        style=STYLE,
        script=SCRIPT,
    )


def figure(name: str, title: str, svg: str, caption: str) -> str:
    return (
        f'<figure class="chart" data-chart="{name}" data-rendered="pending">'
        f"<h2>{esc(title)}</h2>{svg}<figcaption>{esc(caption)}</figcaption></figure>"
    )


# ------------------------------------------------------------------------------ the charts


def daily_chart(daily: Sequence[DailyCount]) -> str:
    if not daily:
        return empty_chart("No incidents yet.")
    categories = top_categories(daily)
    per_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for count in daily:
        category = count.category if count.category in categories else OTHER_CATEGORY
        per_day[count.day][category] += count.incidents
    first, last = min(per_day), max(per_day)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    highest = max(sum(per_day[day].values()) for day in days)
    left, top, plot_width, plot_height = 44, 12, WIDTH - 60, 220
    step = plot_width / len(days)
    scale = axis_max(highest)
    parts = [y_axis(left, top, plot_width, plot_height, scale)]
    for n, day in enumerate(days):
        y: float = top + plot_height
        for category in categories:
            value = per_day[day].get(category, 0)
            if not value:
                continue
            height = plot_height * value / scale
            y -= height
            parts.append(
                f'<rect class="mark" x="{left + n * step + 0.5:.1f}" y="{y:.1f}" '
                f'width="{max(step - 1, 1):.1f}" height="{height:.1f}" '
                f'fill="{colour(categories, category)}"><title>{day.isoformat()}: '
                f"{value} {esc(category)}</title></rect>"
            )
    labels = max(1, len(days) // 8)
    for n in range(0, len(days), labels):
        x = left + n * step + step / 2
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_height + 16}" text-anchor="middle" '
            f'class="tick">{days[n].strftime("%d %b")}</text>'
        )
    legend_y = top + plot_height + 40
    x = left
    for category in categories:
        parts.append(
            f'<rect x="{x}" y="{legend_y - 10}" width="12" height="12" '
            f'fill="{colour(categories, category)}"/>'
            f'<text x="{x + 16}" y="{legend_y}" class="legend">{esc(category)}</text>'
        )
        x += 26 + 7 * len(category)
    return svg(WIDTH, legend_y + 12, "".join(parts))


def sources_chart(sources: Sequence[Source], show_console: bool) -> str:
    if not sources:
        return empty_chart("No attacker source yet.")
    rows = [
        (
            f"{source.address} ({source.console})" if show_console else source.address,
            source.incidents,
            f"{source.address}: {source.incidents} incidents, {source.events} events, "
            f"{source.birds} birds and {source.tokens} tokens touched, "
            f"{source.credentials} credentials tried; first seen {when(source.first_seen)}, "
            f"last seen {when(source.last_seen)}",
        )
        for source in sources
    ]
    return horizontal_bars(rows, PALETTE[3])


def acknowledge_chart(seconds: Sequence[int]) -> str:
    if not seconds:
        return empty_chart("No incident acknowledged yet.")
    counts = [0] * len(ACK_BUCKETS)
    for value in seconds:
        counts[next(i for i, (_, bound) in enumerate(ACK_BUCKETS) if value < bound)] += 1
    left, top, plot_width, plot_height = 44, 12, WIDTH - 60, 200
    scale = axis_max(max(counts))
    step = plot_width / len(ACK_BUCKETS)
    parts = [y_axis(left, top, plot_width, plot_height, scale)]
    for n, ((label, _), count) in enumerate(zip(ACK_BUCKETS, counts, strict=True)):
        height = plot_height * count / scale
        x = left + n * step
        if count:
            parts.append(
                f'<rect class="mark" x="{x + 6:.1f}" y="{top + plot_height - height:.1f}" '
                f'width="{step - 12:.1f}" height="{height:.1f}" fill="{PALETTE[0]}">'
                f"<title>{count} acknowledged in {esc(label)}</title></rect>"
                f'<text x="{x + step / 2:.1f}" y="{top + plot_height - height - 4:.1f}" '
                f'text-anchor="middle" class="value">{count}</text>'
            )
        parts.append(
            f'<text x="{x + step / 2:.1f}" y="{top + plot_height + 16}" text-anchor="middle" '
            f'class="tick">{esc(label)}</text>'
        )
    middle = median(seconds)
    parts.append(
        f'<text x="{left + plot_width}" y="{top + 10}" text-anchor="end" class="legend">'
        f"median {duration(middle)}</text>"
    )
    return svg(WIDTH, top + plot_height + 26, "".join(parts))


def tokens_chart(kinds: Sequence[TokenKind]) -> str:
    if not kinds:
        return empty_chart("No Canarytoken yet.")
    busiest = sorted(kinds, key=lambda kind: (-kind.times_triggered, kind.kind))[:TOP_TOKEN_KINDS]
    rows = [
        (
            f"{kind.kind} ({kind.triggered}/{kind.tokens})",
            kind.times_triggered,
            f"{kind.kind}: {kind.tokens} tokens, {kind.triggered} triggered "
            f"{kind.times_triggered} times, {kind.never_triggered} never triggered",
        )
        for kind in busiest
    ]
    return horizontal_bars(rows, PALETTE[1])


def birds_chart(birds: Sequence[Bird]) -> str:
    if not birds:
        return empty_chart("No bird yet.")
    columns, tile_width, tile_height, gap = 4, 220, 74, 10
    parts = []
    for n, bird in enumerate(birds):
        x = (n % columns) * (tile_width + gap)
        y = (n // columns) * (tile_height + gap)
        fill = LIVE_COLOUR if bird.live else OFFLINE_COLOUR
        state = "live" if bird.live else f"offline {duration(bird.seconds_offline)}"
        firmware = bird.firmware
        if bird.firmware_available:
            firmware += f" → {bird.firmware_available}"
        parts.append(
            f'<g class="bird" data-live="{str(bird.live).lower()}" '
            f'data-firmware-behind="{str(bool(bird.firmware_available)).lower()}">'
            f'<rect class="mark" x="{x}" y="{y}" width="{tile_width}" height="{tile_height}" '
            f'rx="6" fill="{fill}" fill-opacity="0.14" stroke="{fill}">'
            f"<title>{esc(bird.name)} ({esc(bird.flock)}): {state}, last seen "
            f"{when(bird.last_seen)}, firmware {esc(firmware)}, {bird.incidents} incidents"
            f"</title></rect>"
            f'<circle cx="{x + 16}" cy="{y + 20}" r="6" fill="{fill}"/>'
            f'<text x="{x + 30}" y="{y + 24}" class="name">{esc(shorten(bird.name, 24))}</text>'
            f'<text x="{x + 12}" y="{y + 44}" class="tick">{esc(state)} · '
            f"firmware {esc(firmware)}</text>"
            f'<text x="{x + 12}" y="{y + 62}" class="tick">{esc(shorten(bird.flock, 20))} · '
            f"{bird.incidents} incidents</text></g>"
        )
    rows = math.ceil(len(birds) / columns)
    return svg(columns * (tile_width + gap), rows * (tile_height + gap), "".join(parts))


def horizontal_bars(rows: Sequence[tuple[str, int, str]], fill: str) -> str:
    label_width, bar_height, gap, value_width = 230, 20, 6, 50
    plot_width = WIDTH - label_width - value_width
    scale = max(value for _, value, _ in rows) or 1
    parts = []
    for n, (label, value, tooltip) in enumerate(rows):
        y = n * (bar_height + gap)
        width = max(plot_width * value / scale, 1)
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 14}" text-anchor="end" class="tick">'
            f"{esc(shorten(label, 34))}</text>"
            f'<rect class="mark" x="{label_width}" y="{y}" width="{width:.1f}" '
            f'height="{bar_height}" fill="{fill}"><title>{esc(tooltip)}</title></rect>'
            f'<text x="{label_width + width + 6:.1f}" y="{y + 14}" class="value">{value}</text>'
        )
    return svg(WIDTH, len(rows) * (bar_height + gap), "".join(parts))


def y_axis(left: float, top: float, width: float, height: float, scale: int) -> str:
    parts = []
    for n in range(5):
        value = scale * n / 4
        y = top + height - height * n / 4
        parts.append(
            f'<line x1="{left}" x2="{left + width}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
            f"{value:g}</text>"
        )
    return "".join(parts)


def svg(width: float, height: float, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0f}" '
        f'width="{width}" height="{height:.0f}" role="img">{body}</svg>'
    )


def empty_chart(message: str) -> str:
    return f'<p class="empty">{esc(message)}</p>'


# ---------------------------------------------------------------------------------- helpers


def top_categories(daily: Sequence[DailyCount], keep: int = len(PALETTE) - 1) -> list[str]:
    """The busiest categories, then "Other" for the rest, so the legend stays readable."""
    totals: dict[str, int] = defaultdict(int)
    for count in daily:
        totals[count.category] += count.incidents
    ranked = sorted(totals, key=lambda category: (-totals[category], category))
    return ranked if len(ranked) <= keep + 1 else [*ranked[:keep], OTHER_CATEGORY]


def colour(categories: Sequence[str], category: str) -> str:
    return PALETTE[categories.index(category) % len(PALETTE)]


def axis_max(value: int) -> int:
    """The top of a value axis of four equal steps, each a round number (1, 2 or 5 times a
    power of ten, at least 1), that reaches `value`."""
    wanted = max(value / 4, 1)
    power = 10 ** math.floor(math.log10(wanted))
    step = next(factor * power for factor in (1, 2, 5, 10) if factor * power >= wanted)
    return int(step * 4)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "never"


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def esc(text: str) -> str:
    return html.escape(text, quote=True)


STYLE = """
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
  background: #f5f6f8; color: #1d2330; }
header { background: #1d2330; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; color: #b8c0cc; font-size: 12px; }
main { max-width: 980px; margin: 0 auto; padding: 16px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(120px, 1fr)); gap: 10px;
  margin-bottom: 16px; }
.tile { background: #fff; border-radius: 8px; padding: 10px 12px;
  box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.tile .value { font-size: 20px; font-weight: 600; }
.tile .label { font-size: 11px; color: #5b6472; }
figure.chart { background: #fff; border-radius: 8px; margin: 0 0 16px; padding: 12px 16px;
  box-shadow: 0 1px 2px rgba(0,0,0,.08); }
figure.chart h2 { font-size: 16px; margin: 0 0 8px; }
figcaption { font-size: 12px; color: #5b6472; margin-top: 6px; }
svg { max-width: 100%; height: auto; display: block; }
svg text { font-family: inherit; fill: #1d2330; }
svg .tick { font-size: 11px; fill: #5b6472; }
svg .value { font-size: 11px; }
svg .legend { font-size: 12px; }
svg .name { font-size: 13px; font-weight: 600; }
svg .grid { stroke: #e3e6eb; stroke-width: 1; }
svg .mark:hover { opacity: .8; }
.empty { color: #5b6472; font-style: italic; }
"""

SCRIPT = """
(function () {
  var figures = document.querySelectorAll('figure[data-chart]');
  var drawn = 0;
  figures.forEach(function (figure) {
    var chart = figure.querySelector('svg');
    var marks = chart ? chart.querySelectorAll('.mark').length : 0;
    var box = chart ? chart.getBoundingClientRect() : null;
    var rendered = !!box && box.width > 0 && box.height > 0 && marks > 0;
    figure.setAttribute('data-rendered', rendered ? 'true' : (chart ? 'false' : 'empty'));
    figure.setAttribute('data-marks', String(marks));
    if (rendered) { drawn += 1; }
  });
  document.body.setAttribute('data-charts-rendered', drawn + '/' + figures.length);
})();
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<header>
<h1>{title}</h1>
<p>Console: {consoles} · from {source} · generated {generated}</p>
</header>
<main>
<section class="tiles">{tiles}</section>
{sections}
</main>
<script>{script}</script>
</body>
</html>
"""
