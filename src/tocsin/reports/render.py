"""A report as text: Markdown (GitHub's and Discord's, or Slack's mrkdwn), split into parts a
chat service takes; HTML for email and the console (`render_html`); a dict for `--json`.

Tables go in code blocks, which every chat shows aligned (neither Discord nor Slack draws
Markdown tables), and a part that splits a code block closes it and the next reopens it."""

from __future__ import annotations

from functools import cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from jinja2 import Environment, Template

from tocsin.reports.build import Report, Section

Flavour = Literal["markdown", "slack"]
MARKS = {"ok": "🟢", "WARNING": "🟡", "CRITICAL": "🔴"}
FENCE = "```"
CELL_MAX = 60  # a cell wider than this is cut in chat tables; HTML shows it whole


def _bold(text: str, flavour: Flavour) -> str:
    return f"*{text}*" if flavour == "slack" else f"**{text}**"


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value == value else "NaN"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "—" if value is None else str(value)


def _cell(value: Any) -> str:
    text = " ".join(_number(value).split())
    return text if len(text) <= CELL_MAX else text[: CELL_MAX - 1] + "…"


def table(columns: list[str], rows: list[dict[str, Any]]) -> list[str]:
    """Rows as aligned text lines (header, rule, rows)."""
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]

    def line(parts: list[str]) -> str:
        return "  ".join(p.ljust(w) for p, w in zip(parts, widths, strict=True)).rstrip()

    return [line(columns), line(["-" * w for w in widths]), *(line(r) for r in cells)]


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def figure_lines(figures: dict[str, Any]) -> list[str]:
    """Tocsin's figures as bullet lines."""
    out: list[str] = []
    if (alerts := figures.get("alerts")) is not None:
        by = ", ".join(f"{k} {v}" for k, v in alerts["by_severity"].items()) or "none"
        out.append(f"- Alerts: {alerts['count']} ({by}); {alerts['open']} still open")
    for key, name in (("mtta", "MTTA"), ("mttr", "MTTR")):
        if (times := figures.get(key)) is not None:
            every = times["all"]
            if not every["count"]:
                out.append(f"- {name}: no {'acknowledgement' if key == 'mtta' else 'resolution'}")
                continue
            out.append(
                f"- {name}: p50 {_minutes(every['p50_seconds'])}, p90 "
                f"{_minutes(every['p90_seconds'])}; {every['within_target']}/{every['count']} "
                f"within {_minutes(every['target_seconds'])}"
            )
            for sev, spread in times["by_severity"].items():
                out.append(
                    f"  - {sev}: p50 {_minutes(spread['p50_seconds'])}, p90 "
                    f"{_minutes(spread['p90_seconds'])} ({spread['count']})"
                )
    if (seen := figures.get("detect")) is not None:
        every = seen["all"]
        if every["count"]:
            out.append(
                f"- Time to detect: p50 {_minutes(every['p50_seconds'])}, p90 "
                f"{_minutes(every['p90_seconds'])}; {every['within_target']}/{every['count']} "
                f"within {_minutes(every['target_seconds'])}"
            )
        else:
            out.append("- Time to detect: no alert from a check")
    if (inc := figures.get("incidents")) is not None:
        by = ", ".join(f"{k} {v}" for k, v in inc["by_severity"].items()) or "none"
        fixed = inc["time_to_resolve"]
        line = f"- Incidents: {inc['count']} ({by}); {inc['open']} still open"
        if fixed["count"]:
            line += f"; resolved in p50 {_minutes(fixed['p50_seconds'])}"
        out.append(line)
    if (esc := figures.get("escalations")) is not None:
        out.append(f"- Escalations that reached step 2: {esc['reached_step_2']}")
    if (sent := figures.get("notifications")) is not None:
        channels = ", ".join(f"{k} {v}" for k, v in sent["by_channel"].items()) or "none"
        out.append(f"- Notifications: {sent['count']} ({sent['per_day']}/day; {channels})")
    if (night := figures.get("night_pages")) is not None:
        out.append(f"- Notifications at night (22:00–08:00): {night['count']}")
    if (ledger := figures.get("quality")) is not None:
        out.append(
            f"- False-positive rate: {_ratio(ledger['false_positive_rate'])} "
            f"(bar {_ratio(ledger['bar'])})"
        )
        for check, row in ledger["checks"].items():
            flag = " ⚠ over the bar" if row["over_bar"] else ""
            out.append(
                f"  - {check}: {row['actionable']} actionable ({row['in_incident']} in an "
                f"incident), {row['transient']} transient, {row['noise']} noise, "
                f"{row['open']} open; "
                f"{_ratio(row['false_positive_rate'])}{flag}"
            )
    return out


def slo_lines(figures: dict[str, Any]) -> list[str]:
    """Each SLO as a bullet line: objective, attained, budget left and status."""
    out: list[str] = []
    for slo in figures.get("slos", []):
        attained = slo.get("attained_percent")
        shown = "—" if attained is None else f"{attained:.3f} %"
        burning = [tier for tier, on in (slo.get("burning") or {}).items() if on]
        out.append(
            f"- {slo['name']} ({slo['service']}): {slo['objective']:g} % over {slo['window']}, "
            f"attained {shown}; budget {slo['budget_remaining_percent']:.1f} % left "
            f"({slo['remaining_minutes']:.1f} of {slo['budget_minutes']:.1f} min) — "
            f"{slo['status']}" + (f"; burning fast ({', '.join(burning)})" if burning else "")
        )
    if not out:
        out.append("(no SLOs)")
    return out


def section_lines(section: Section, flavour: Flavour) -> list[str]:
    mark = MARKS[section.level]
    level = "" if section.level == "ok" else f" — {section.level}"
    head = f"{mark} {section.title}{level}"
    lines = [_bold(head, flavour) if flavour == "slack" else f"## {head}"]
    if section.note:
        lines.append(f"_{section.note}_")
    if section.error:
        lines.append(f"⚠ could not run: {section.error}")
    elif section.kind == "figures":
        lines.extend(figure_lines(section.figures))
    elif section.kind == "slos":
        lines.extend(slo_lines(section.figures))
    elif not section.rows:
        lines.append("(no rows)")
    else:
        lines.extend([FENCE, *table(section.columns, section.rows), FENCE])
        if section.cut:
            lines.append(f"…and {section.cut} more rows")
    return lines


def headline(report: Report) -> str:
    local = report.at.astimezone(ZoneInfo(report.zone))
    return f"{report.title} — {local.strftime('%a %Y-%m-%d %H:%M %Z')}"


def markdown(report: Report, flavour: Flavour = "markdown") -> str:
    """The whole report; the mention leads when a section is CRITICAL."""
    status = "healthy" if report.status == "healthy" else "needs attention"
    counts = [s.level for s in report.sections if s.level != "ok"]
    summary = ", ".join(
        f"{counts.count(level)} {level}" for level in ("CRITICAL", "WARNING") if level in counts
    )
    top = [f"# {headline(report)}" if flavour == "markdown" else _bold(headline(report), flavour)]
    line = f"Status: {_bold(status, flavour)}" + (f" ({summary})" if summary else "")
    if report.mention and report.level == "CRITICAL":
        line = f"{report.mention} {line}"
    blocks = ["\n".join([*top, line])]
    blocks.extend("\n".join(section_lines(s, flavour)) for s in report.sections)
    return "\n\n".join(blocks) + "\n"


def _lines(block: str, limit: int) -> list[str]:
    """A block longer than `limit` in parts cut between lines (within a line if need be); a
    code block cut in two is closed at the end of one part and reopened at the next."""
    width = limit - 2 * (len(FENCE) + 1)
    lines = [
        line[i : i + width]
        for line in block.split("\n")
        for i in range(0, max(len(line), 1), width)
    ]
    parts: list[str] = []
    current = ""
    fenced = False
    for line in lines:
        after = fenced != line.startswith(FENCE)
        candidate = f"{current}\n{line}" if current else line
        if current and len(candidate) + (len(FENCE) + 1 if after else 0) > limit:
            parts.append(current + (f"\n{FENCE}" if fenced else ""))
            candidate = f"{FENCE}\n{line}" if fenced else line
        current, fenced = candidate, after
    parts.append(current)
    return parts


def split(text: str, limit: int) -> list[str]:
    """`text` in parts of at most `limit` characters, cut between blocks (blank lines) where
    a block fits, else between lines, else within a line."""
    if limit < 4 * (len(FENCE) + 1):
        raise ValueError(f"a limit of {limit} leaves no room for a part")
    parts: list[str] = []
    current = ""
    for block in text.strip("\n").split("\n\n"):
        if current and len(current) + 2 + len(block) <= limit:
            current = f"{current}\n\n{block}"
            continue
        if current:
            parts.append(current)
        pieces = [block] if len(block) <= limit else _lines(block, limit)
        parts.extend(pieces[:-1])
        current = pieces[-1]
    if current:
        parts.append(current)
    return parts


def as_json(report: Report) -> dict[str, Any]:
    return report.as_dict()


HTML = """\
<!doctype html>
<html><head><meta charset="utf-8"><title>{{ headline }}</title></head>
<body style="font-family: sans-serif; line-height: 1.4; max-width: 60em">
<h1>{{ headline }}</h1>
<p>Status: <strong>{{ status }}</strong>{% if mention %} — {{ mention }}{% endif %}</p>
{% for s in sections %}{% set i = loop.index0 %}
<h2>{{ marks[s.level] }} {{ s.title }}{% if s.level != "ok" %} — {{ s.level }}{% endif %}</h2>
{% if s.note %}<p><em>{{ s.note }}</em></p>{% endif %}
{% if s.error %}<p style="color: #b00020">could not run: {{ s.error }}</p>
{% elif s.kind == "figures" %}<ul>{% for line in figure_lines(s.figures) %}
<li>{{ line.lstrip(" -") }}</li>{% endfor %}</ul>
{% elif s.kind == "slos" %}<ul>{% for line in slo_lines(s.figures) %}
<li>{{ line.lstrip(" -") }}</li>{% endfor %}</ul>
{% for cid, alt in images.get(i, []) %}<p><img src="cid:{{ cid }}" alt="{{ alt }}"></p>
{% endfor %}
{% elif not s.rows %}<p>(no rows)</p>
{% else %}<table cellpadding="4" style="border-collapse: collapse">
<tr>{% for c in s.columns %}<th align="left">{{ c }}</th>{% endfor %}</tr>
{% for row in s.rows %}<tr>{% for c in s.columns %}<td>{{ number(row.get(c)) }}</td>
{% endfor %}</tr>
{% endfor %}</table>{% if s.cut %}<p>…and {{ s.cut }} more rows</p>{% endif %}
{% endif %}{% endfor %}
</body></html>
"""


@cache
def _template() -> Template:
    return Environment(autoescape=True).from_string(HTML)


def render_html(report: Report, images: dict[int, list[tuple[str, str]]] | None = None) -> str:
    """The report as a page of its own (email): every value escaped; `images`, by section
    index, are (Content-ID, alt text) of charts attached to the mail."""
    mention = report.mention if report.mention and report.level == "CRITICAL" else None
    return _template().render(
        headline=headline(report),
        status="healthy" if report.status == "healthy" else "needs attention",
        mention=mention,
        sections=report.sections,
        marks=MARKS,
        figure_lines=figure_lines,
        slo_lines=slo_lines,
        images=images or {},
        number=_number,
    )
