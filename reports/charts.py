"""The report's charts, drawn on the server as inline SVG: no script, no CDN, and they print.

Each function takes the report of `queries.annual` and returns safe markup; every text drawn is
escaped. Each chart has a title for screen readers, and the page shows the same figures as tables.
"""
import math

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from suggestions.choices import Outcome

from .queries import OUTCOMES

COLORS = {Outcome.SOLVED: "#16a34a", Outcome.IN_PROGRESS: "#2563eb", Outcome.PLANNED: "#d97706",
          Outcome.FOR_REFERENCE: "#6b7280", "unreplied": "#d1d5db"}
INK, MUTED, LINE = "#1f2933", "#616e7c", "#d9e2ec"
FONT = 'font-family="sans-serif" font-size="13"'


def _svg(width, height, label, body):
    return mark_safe(
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>'
        f'{"".join(body)}</svg>')


def _text(x, y, text, anchor="start", color=INK, extra=""):
    return f'<text x="{x}" y="{y}" text-anchor="{anchor}" fill="{color}" {FONT} {extra}>{escape(text)}</text>'


def _outcome_label(code):
    return str(Outcome(code).label) if code in Outcome.values else _("Not yet replied")


def _percent(value):
    return "—" if value is None else f"{value}%"


def outcome_mix(report):
    """A ring of the four outcomes among the replied items, with a legend of counts and percentages."""
    cx, cy, radius, stroke = 80, 80, 56, 26
    circumference = 2 * math.pi * radius
    replied = report["replied"]
    body = [f'<circle cx="{cx}" cy="{cy}" r="{radius}" fill="none" stroke="{LINE}" stroke-width="{stroke}"/>']
    offset = 0.0
    for code in OUTCOMES:
        count = report["outcomes"][code]["count"]
        if not replied or not count:
            continue
        length = circumference * count / replied
        body.append(f'<circle cx="{cx}" cy="{cy}" r="{radius}" fill="none" stroke="{COLORS[code]}" '
                    f'stroke-width="{stroke}" stroke-dasharray="{length:.2f} {circumference - length:.2f}" '
                    f'stroke-dashoffset="{-offset:.2f}" transform="rotate(-90 {cx} {cy})"/>')
        offset += length
    body.append(_text(cx, cy + 2, str(replied), "middle", extra='font-size="20" font-weight="bold"'))
    body.append(_text(cx, cy + 20, _("replied"), "middle", MUTED))
    for i, code in enumerate(OUTCOMES):
        y = 30 + i * 28
        figures = report["outcomes"][code]
        body.append(f'<rect x="180" y="{y - 12}" width="14" height="14" fill="{COLORS[code]}"/>')
        body.append(_text(202, y, _outcome_label(code)))
        body.append(_text(420, y, f'{figures["count"]}（{_percent(figures["percent"])}）', "end"))
    return _svg(440, 160, _("Outcomes of the replied suggestions"), body)


def departments(report):
    """One bar per department leading any item: its lead items by outcome, the unreplied ones in grey."""
    rows = [row for row in report["by_department"] if row["lead"]]
    label_width, bar_width, row_height, top = 170, 360, 24, 8
    widest = max((row["lead"] for row in rows), default=0)
    height = top + max(len(rows), 1) * row_height + 34
    body = []
    if not widest:
        body.append(_text(10, 24, _("No lead assignments."), color=MUTED))
    for i, row in enumerate(rows):
        y = top + i * row_height
        body.append(_text(label_width - 8, y + 15, row["department"], "end"))
        x = float(label_width)
        parts = [(code, row[code]) for code in OUTCOMES] + [("unreplied", row["lead"] - row["replied"])]
        for code, count in parts:
            if count <= 0 or not widest:
                continue
            width = bar_width * count / widest
            body.append(f'<rect x="{x:.2f}" y="{y + 3}" width="{width:.2f}" height="{row_height - 8}" '
                        f'fill="{COLORS[code]}"><title>{escape(row["department"])} · '
                        f'{escape(_outcome_label(code))} {count}</title></rect>')
            x += width
        body.append(_text(x + 6, y + 15, str(row["lead"]), color=MUTED))
    legend_y = top + max(len(rows), 1) * row_height + 20
    x = label_width
    for code in [*OUTCOMES, "unreplied"]:
        body.append(f'<rect x="{x}" y="{legend_y - 11}" width="12" height="12" fill="{COLORS[code]}"/>')
        label = _outcome_label(code)
        body.append(_text(x + 16, legend_y, label))
        x += 32 + 14 * len(label)
    return _svg(label_width + bar_width + 120, height, _("Lead items by department and outcome"), body)


def _months(report):
    """(label, count) for every month from January of the year to the last month with replies or `as_of`."""
    counts = {m["month"]: m["replied"] for m in report["by_month"]}
    year, end = report["year"], report["as_of"]
    last = max([f"{end.year:04d}-{end.month:02d}", *counts]) if end.year >= year else max(counts, default=None)
    if last is None:
        return []
    months, y, m = [], year, 1
    while f"{y:04d}-{m:02d}" <= last:
        key = f"{y:04d}-{m:02d}"
        months.append((key, counts.get(key, 0)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


def replies_by_month(report):
    """A column per month: how many of the year's items had their first reply in it."""
    months = _months(report)
    left, chart_height, top, column = 36, 150, 14, 34
    highest = max((count for _, count in months), default=0)
    width = left + max(len(months), 1) * column + 10
    body = [f'<line x1="{left}" y1="{top + chart_height}" x2="{width - 6}" y2="{top + chart_height}" '
            f'stroke="{MUTED}"/>']
    if not highest:
        body.append(_text(left + 8, top + chart_height / 2, _("No replies yet."), color=MUTED))
    for i, (key, count) in enumerate(months):
        x = left + i * column + 5
        h = chart_height * count / highest if highest else 0
        y = top + chart_height - h
        if count:
            body.append(f'<rect x="{x}" y="{y:.2f}" width="{column - 10}" height="{h:.2f}" '
                        f'fill="{COLORS[Outcome.SOLVED]}"><title>{key} {count}</title></rect>')
            body.append(_text(x + (column - 10) / 2, y - 3, str(count), "middle", MUTED, 'font-size="11"'))
        year, month = key.split("-")
        label = str(int(month)) if int(year) == report["year"] else f"{year}/{int(month)}"
        body.append(_text(x + (column - 10) / 2, top + chart_height + 16, label, "middle", MUTED, 'font-size="11"'))
    return _svg(width, top + chart_height + 26, _("First replies per month"), body)
