"""Who is on call, computed without a store: rotations, DST, restrictions, layers, overrides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tocsin.config import OncallScheduleConfig
from tocsin.oncall.rotation import Cover, Shift, on_call, shifts

NY = ZoneInfo("America/New_York")


def schedule(
    *layers: dict[str, object], timezone: str = "America/New_York"
) -> OncallScheduleConfig:
    return OncallScheduleConfig.model_validate({"timezone": timezone, "layers": list(layers)})


def weekly(**changes: object) -> dict[str, object]:
    layer: dict[str, object] = {
        "name": "weekly",
        "start": "2026-10-26T09:00",
        "rotation": "weekly",
        "participants": ["ana", "ben", "cy"],
    }
    return {**layer, **changes}


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY).astimezone(UTC)  # type: ignore[misc]


def who(s: OncallScheduleConfig, at: datetime, covers: list[Cover] | None = None) -> str | None:
    return on_call(s, covers or [], at).user


def test_participants_take_turns_in_order_and_wrap_around() -> None:
    s = schedule(weekly())

    assert who(s, ny(2026, 10, 26, 9)) == "ana"
    assert who(s, ny(2026, 11, 2, 8, 59)) == "ana"
    assert who(s, ny(2026, 11, 2, 9)) == "ben"
    assert who(s, ny(2026, 11, 9, 10)) == "cy"
    assert who(s, ny(2026, 11, 16, 10)) == "ana"


def test_a_0900_handoff_stays_0900_local_across_the_end_of_daylight_saving() -> None:
    # New York leaves daylight saving on Sunday 2026-11-01: 09:00 is 13:00 UTC before, 14:00 after.
    s = schedule(weekly())

    first, second = shifts(s, [], ny(2026, 10, 27), ny(2026, 11, 3))

    assert first.start == datetime(2026, 10, 26, 13, tzinfo=UTC)
    assert first.end == second.start == datetime(2026, 11, 2, 14, tzinfo=UTC)
    assert first.end - first.start == timedelta(days=7, hours=1)
    assert second.start.astimezone(NY).hour == 9


def test_a_daily_handoff_stays_local_across_the_start_of_daylight_saving() -> None:
    # Spring forward on Sunday 2027-03-14: that day's turn is 23 hours long.
    s = schedule(weekly(start="2027-03-12T09:00", rotation="daily", participants=["ana", "ben"]))

    found = shifts(s, [], ny(2027, 3, 13, 12), ny(2027, 3, 15, 12))

    assert [x.start.astimezone(NY).hour for x in found] == [9, 9, 9]
    assert [x.end - x.start for x in found] == [timedelta(hours=h) for h in (23, 24, 24)]
    assert [x.user for x in found] == ["ben", "ana", "ben"]


def test_before_a_layer_starts_nobody_is_on_call() -> None:
    s = schedule(weekly())

    gap = on_call(s, [], ny(2026, 10, 20))

    assert gap.user is None
    assert gap.end == ny(2026, 10, 26, 9)


def test_a_restricted_layer_covers_only_its_hours_and_days() -> None:
    hours = {"between": "09:00-17:00", "days": ["mon", "tue", "wed", "thu", "fri"]}
    s = schedule(weekly(restrict=hours))

    assert who(s, ny(2026, 10, 27, 10)) == "ana"  # Tuesday 10:00
    assert who(s, ny(2026, 10, 27, 18)) is None  # Tuesday 18:00
    assert who(s, ny(2026, 10, 31, 10)) is None  # Saturday
    monday = shifts(s, [], ny(2026, 11, 2, 0), ny(2026, 11, 3, 0))
    assert [(x.start, x.end, x.user) for x in monday] == [
        (ny(2026, 11, 2, 0), ny(2026, 11, 2, 9), None),
        (ny(2026, 11, 2, 9), ny(2026, 11, 2, 17), "ben"),
        (ny(2026, 11, 2, 17), ny(2026, 11, 3, 0), None),
    ]


def test_a_restriction_may_wrap_past_midnight() -> None:
    nights = {"between": "22:00-06:00", "days": ["fri"]}
    s = schedule(weekly(restrict=nights))

    assert who(s, ny(2026, 10, 30, 23)) == "ana"  # Friday night
    assert who(s, ny(2026, 10, 31, 5, 59)) == "ana"  # early Saturday, same night
    assert who(s, ny(2026, 10, 31, 23)) is None  # Saturday night


def test_a_later_layer_overrides_where_it_has_someone_and_the_lower_one_shows_elsewhere() -> None:
    business = {"between": "09:00-17:00", "days": ["mon", "tue", "wed", "thu", "fri"]}
    s = schedule(
        weekly(),
        weekly(name="daytime", participants=["dee"], restrict=business),
    )

    assert who(s, ny(2026, 10, 27, 10)) == "dee"
    assert who(s, ny(2026, 10, 27, 20)) == "ana"
    assert who(s, ny(2026, 10, 31, 10)) == "ana"


def test_an_override_covers_its_range_and_the_newest_override_wins() -> None:
    s = schedule(weekly())
    covers = [
        Cover(1, "ben", ny(2026, 10, 27, 12), ny(2026, 10, 27, 18)),
        Cover(2, "cy", ny(2026, 10, 27, 14), ny(2026, 10, 27, 15)),
    ]

    day = shifts(s, covers, ny(2026, 10, 27, 0), ny(2026, 10, 28, 0))

    assert [(x.user, x.source) for x in day] == [
        ("ana", "weekly"),
        ("ben", "override #1"),
        ("cy", "override #2"),
        ("ben", "override #1"),
        ("ana", "weekly"),
    ]
    assert day[0].start == ny(2026, 10, 26, 9)  # the real start, not the range's
    assert day[-1].end == ny(2026, 11, 2, 9)


def test_an_override_fills_a_gap() -> None:
    s = schedule(weekly(restrict={"between": "09:00-17:00"}))

    assert (
        who(s, ny(2026, 10, 27, 20), [Cover(5, "cy", ny(2026, 10, 27, 19), ny(2026, 10, 28))])
        == "cy"
    )


def test_a_shift_keeps_its_bounds_whatever_range_is_asked() -> None:
    s = schedule(weekly(rotation="30d"))

    a = shifts(s, [], ny(2026, 11, 1), ny(2026, 11, 2))
    b = shifts(s, [], ny(2026, 11, 20), ny(2026, 11, 21))

    assert a == b == [Shift(ny(2026, 10, 26, 9), ny(2026, 11, 25, 9), "ana", "weekly", turn=0)]


def test_a_rotation_of_hours_hands_over_at_the_same_local_times() -> None:
    s = schedule(weekly(rotation="12h", participants=["ana", "ben"]))

    found = shifts(s, [], ny(2026, 10, 31, 12), ny(2026, 11, 2, 12))

    assert {x.start.astimezone(NY).strftime("%H:%M") for x in found} == {"09:00", "21:00"}


def test_one_persons_consecutive_turns_stay_separate_shifts() -> None:
    s = schedule(weekly(participants=["ana"]))

    found = shifts(s, [], ny(2026, 11, 1), ny(2026, 11, 10))

    assert [(x.start, x.user) for x in found] == [
        (ny(2026, 10, 26, 9), "ana"),
        (ny(2026, 11, 2, 9), "ana"),
        (ny(2026, 11, 9, 9), "ana"),
    ]
