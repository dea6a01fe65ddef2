"""Charts: a trend per figure from stored runs, and a burn-down, as PNG and SVG (written to
tests/screenshots/ so a person can look at them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tocsin.reports.charts import burn_down, series_of, trend, trends

SHOTS = Path(__file__).parent.parent / "screenshots"
DAY = timedelta(days=1)
START = datetime(2026, 11, 1, 14, tzinfo=UTC)


def stored(rate: float, mtta: float) -> dict[str, object]:
    """A run's figures as `build.outcome` stores them."""
    return {
        "status": "healthy",
        "sections": [
            {
                "title": "Orders",
                "level": "ok",
                "rows": [{"provider": "stripe", "failure_rate": rate, "orders": 1200}],
                "figures": {},
            },
            {
                "title": "Tocsin",
                "level": "ok",
                "rows": [],
                "figures": {
                    "alerts": {"count": 4},
                    "mtta": {"all": {"p50_seconds": mtta}},
                    "quality": {"false_positive_rate": 0.25},
                },
            },
        ],
    }


def test_stored_figures_become_named_series() -> None:
    assert series_of(stored(2.5, 180)) == {
        "Orders: stripe.failure_rate": 2.5,
        "Orders: stripe.orders": 1200,
        "alerts": 4,
        "mtta_p50_minutes": 3.0,
        "false_positive_rate": 0.25,
    }
    runs = [(START + DAY * i, stored(1.0 + i % 5, 60.0 * (10 - i % 10))) for i in range(30)]
    found = trends(reversed(runs))
    assert [at for at, _ in found["mtta_p50_minutes"]] == [at for at, _ in runs]
    assert found["Orders: stripe.failure_rate"][:3] == [
        (START, 1.0),
        (START + DAY, 2.0),
        (START + 2 * DAY, 3.0),
    ]


def test_a_trend_and_a_burn_down_are_drawn_as_png_and_svg() -> None:
    runs = [(START + DAY * i, stored(1.0 + (i * 7) % 5, 60.0 * (10 - i % 10))) for i in range(30)]
    rate = trends(runs)["Orders: stripe.failure_rate"]
    png = trend(rate, "failure rate (stripe), %", critical=5, warning=4)
    svg = trend(rate, "failure rate (stripe), %", "svg", critical=5, warning=4)
    left = [(START + DAY * i, 100 - 3.5 * i) for i in range(30)]
    even = [(START, 100.0), (START + DAY * 30, 0.0)]
    burn = burn_down(left, "checkout availability 99.9 %, 30 days", ideal=even)
    burn_svg = burn_down(left, "checkout availability 99.9 %, 30 days", "svg", ideal=even)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert burn.startswith(b"\x89PNG\r\n\x1a\n")
    assert svg.lstrip().startswith(b"<?xml")
    assert b"<svg" in burn_svg
    assert svg == trend(rate, "failure rate (stripe), %", "svg", critical=5, warning=4)
    SHOTS.mkdir(exist_ok=True)
    (SHOTS / "report-trend.png").write_bytes(png)
    (SHOTS / "report-burn-down.png").write_bytes(burn)
