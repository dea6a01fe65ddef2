"""Charts of reports, drawn by matplotlib (its Agg canvas, no display): a trend per figure over the
stored runs, and an error budget's burn-down. PNG for chat and email, SVG for the web.

Figures become series by name: a query section's numeric columns per row (`Metrics:
failure_rate.value`, keyed by the row's first text column) and Tocsin's own figures
(`alerts`, `mtta_p50_minutes`, `mttr_p50_minutes`, `false_positive_rate`, `notifications`)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

# A Figure made directly (never pyplot) draws on the Agg canvas when saved: no display, no
# global backend to set at import, and no shared state between threads.
import matplotlib
import matplotlib.dates as mdates
from matplotlib.figure import Figure

Format = Literal["png", "svg"]
Point = tuple[datetime, float]
_OWN = {
    "alerts": ("alerts", "count"),
    "notifications": ("notifications", "count"),
    "mtta_p50_minutes": ("mtta", "all", "p50_seconds"),
    "mttr_p50_minutes": ("mttr", "all", "p50_seconds"),
    "false_positive_rate": ("quality", "false_positive_rate"),
}


def _dig(data: Any, path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def series_of(figures: dict[str, Any]) -> dict[str, float]:
    """One run's stored figures as named numbers."""
    out: dict[str, float] = {}
    for section in figures.get("sections", []):
        own = section.get("figures") or {}
        for name, path in _OWN.items():
            value = _number(_dig(own, path))
            if value is not None:
                out[name] = value / 60 if name.endswith("_minutes") else value
        for row in section.get("rows") or []:
            texts = [v for v in row.values() if isinstance(v, str)]
            key = f"{section['title']}: {texts[0]}" if texts else section["title"]
            for column, value in row.items():
                number = _number(value)
                if number is not None:
                    out[f"{key}.{column}"] = number
    return out


def trends(runs: Iterable[tuple[datetime, dict[str, Any]]]) -> dict[str, list[Point]]:
    """Every named figure over runs given as (slot, stored figures), oldest first."""
    out: dict[str, list[Point]] = {}
    for at, figures in sorted(runs, key=lambda run: run[0]):
        for name, value in series_of(figures).items():
            out.setdefault(name, []).append((at, value))
    return out


def _save(figure: Figure, fmt: Format) -> bytes:
    buffer = io.BytesIO()
    # No date in the SVG's metadata and fixed element ids: the same chart is the same bytes.
    metadata = {"Date": None} if fmt == "svg" else {"Software": "Tocsin"}
    with matplotlib.rc_context({"svg.hashsalt": "tocsin"}):
        figure.savefig(buffer, format=fmt, dpi=100, bbox_inches="tight", metadata=metadata)
    return buffer.getvalue()


def _axes_dates(axes: Any) -> None:
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    formatter = mdates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_formatter(formatter)
    axes.grid(True, alpha=0.3)


def trend(
    points: Sequence[Point],
    title: str,
    fmt: Format = "png",
    *,
    critical: float | None = None,
    warning: float | None = None,
) -> bytes:
    """A line of one figure over time, with its thresholds as dashed lines."""
    figure = Figure(figsize=(7, 3))
    axes = figure.add_subplot()
    if points:
        times, values = zip(*points, strict=True)
        axes.plot(times, values, marker="o", markersize=3, color="#1a5fb4", linewidth=1.5)
    for level, colour, name in ((critical, "#b00020", "CRITICAL"), (warning, "#b36b00", "WARNING")):
        if level is not None:
            axes.axhline(level, color=colour, linestyle="--", linewidth=1, label=name)
    if critical is not None or warning is not None:
        axes.legend(loc="upper left", fontsize=8)
    axes.set_title(title, fontsize=10)
    _axes_dates(axes)
    return _save(figure, fmt)


def burn_down(
    points: Sequence[Point],
    title: str,
    fmt: Format = "png",
    *,
    warning: float = 25.0,
    ideal: Sequence[Point] | None = None,
) -> bytes:
    """An error budget's remaining percentage over its window: the budget line, the even
    burn that would spend it exactly by the window's end, zero, and the warning level."""
    figure = Figure(figsize=(7, 3))
    axes = figure.add_subplot()
    if ideal:
        times, values = zip(*ideal, strict=True)
        axes.plot(times, values, color="#999999", linestyle=":", linewidth=1, label="even burn")
    if points:
        times, values = zip(*points, strict=True)
        last = values[-1]
        colour = "#2e7d32" if last > warning else "#b36b00" if last > 0 else "#b00020"
        axes.plot(times, values, color=colour, linewidth=2, label="budget left")
        axes.fill_between(times, values, 0, color=colour, alpha=0.12)
    axes.axhline(0, color="#b00020", linewidth=1)
    axes.axhline(warning, color="#b36b00", linestyle="--", linewidth=1, label="warning")
    axes.set_ylabel("% of budget left")
    axes.set_title(title, fontsize=10)
    axes.legend(loc="lower left", fontsize=8)  # a budget is spent towards the right
    _axes_dates(axes)
    return _save(figure, fmt)


@dataclass(frozen=True)
class Chart:
    """A chart a report run carries: its section's index, a file-safe name, a title, and
    what it draws (an error budget's burn-down, with its even burn and warning level)."""

    section: int
    slug: str
    title: str
    points: list[Point]
    ideal: list[Point]
    warning: float = 25.0

    def draw(self, fmt: Format = "png") -> bytes:
        return burn_down(self.points, self.title, fmt, warning=self.warning, ideal=self.ideal)


def _points(raw: Any) -> list[Point]:
    return [(datetime.fromisoformat(at), float(value)) for at, value in raw or []]


def charts_of(sections: Sequence[Mapping[str, Any]]) -> list[Chart]:
    """The charts of a run's sections (a built report's or its stored figures' `sections`):
    one burn-down per SLO whose points were stored."""
    out: list[Chart] = []
    for i, section in enumerate(sections):
        for slo in (section.get("figures") or {}).get("slos", []):
            if not slo.get("burn_down"):
                continue
            slug = re.sub(r"[^A-Za-z0-9_.-]", "_", str(slo["name"]))
            out.append(
                Chart(
                    i,
                    f"burn-down-{slug}",
                    f"{slo['name']}: error budget left ({slo['objective']:g} % over "
                    f"{slo['window']}) — {slo['status']}",
                    _points(slo["burn_down"]),
                    _points(slo.get("even_burn")),
                    float(slo.get("warning", 25.0)),
                )
            )
    return out
