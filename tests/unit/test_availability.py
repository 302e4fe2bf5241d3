"""Availability arithmetic (rules 25 and 26): Eastern months, outage minutes counted, excluded and planned, credits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from events.services.availability import (
    Availability,
    DeskLevel,
    credit_pct,
    day_span,
    incident_duration,
    intersect,
    measure,
    minutes_in,
    month_of,
    month_span,
    months_between,
    subtract,
    union,
)
from events.services.facts import (
    DEFAULT_TARGET,
    CreditTier,
    DeskCall,
    ExcludedSpan,
    IncidentRecord,
    OutageSpan,
    default_credit_terms,
)

ET = ZoneInfo("America/Toronto")
D = Decimal
SEPTEMBER = "2026-09"  # 30 days, no clock change: 43 200 minutes
NOW = datetime(2027, 1, 15, 12, 0, tzinfo=ET)  # long after every month measured here


def at(*parts: int) -> datetime:
    """A wall-clock time in Eastern Time."""
    return datetime(*parts, tzinfo=ET)


def incident(
    *outages: tuple[datetime, datetime | None],
    exclusions: tuple[ExcludedSpan, ...] = (),
    incident_id: str = "INC-1",
    organisations: tuple[str, ...] = ("ESDC",),
) -> IncidentRecord:
    """A closed incident with the given outage spans (None: not restored yet)."""
    first = outages[0][0]
    last = max(end or start for start, end in outages)
    return IncidentRecord(
        incident_id=incident_id,
        service_id="mail",
        title="Mail down",
        priority="P1",
        impact="major_outage",
        organisations=organisations,
        status="closed" if all(end for _, end in outages) else "open",
        outages=tuple(OutageSpan(started_at=start, ended_at=end) for start, end in outages),
        exclusions=exclusions,
        months=months_between(first, last),
    )


def excluded(starts_at: datetime, ends_at: datetime, reason: str = "client_service_failure") -> ExcludedSpan:
    return ExcludedSpan(
        reason=reason,
        approved_by="Buyer",
        approved_at=ends_at + timedelta(days=1),
        starts_at=starts_at,
        ends_at=ends_at,
    )


def month_with(outage: timedelta, month: str = SEPTEMBER) -> Availability:
    """The month's availability given one outage of that length starting on the 10th at 10:00."""
    year, number = (int(p) for p in month.split("-"))
    start = at(year, number, 10, 10, 0)
    return measure(month_span(month), [incident((start, start + outage))], [], NOW, DEFAULT_TARGET)


# ---------------------------------------------------------------- months and days in Eastern Time


@pytest.mark.parametrize(
    ("month", "minutes"),
    [
        ("2026-09", 43_200),  # 30 days, no clock change
        ("2026-10", 44_640),  # 31 days, no clock change
        ("2026-03", 44_580),  # DST starts 2026-03-08: one hour shorter
        ("2026-11", 43_260),  # DST ends 2026-11-01: one hour longer
        ("2028-02", 41_760),  # leap February
        ("2027-02", 40_320),
    ],
)
def test_given_an_eastern_calendar_month_when_measured_then_its_minutes_follow_the_clock_changes(month, minutes):
    # When / Then
    assert minutes_in(month_span(month)) == minutes


def test_given_a_month_when_its_span_is_taken_then_it_runs_from_midnight_eastern_to_the_next_midnight_in_utc():
    # When
    start, end = month_span("2026-11")
    # Then: 1 November is still daylight time (EDT, UTC-4); 1 December is standard time (EST, UTC-5)
    assert start == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    assert end == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)


def test_given_december_when_its_span_is_taken_then_it_ends_on_the_first_of_january():
    assert month_span("2026-12") == (datetime(2026, 12, 1, 5, tzinfo=UTC), datetime(2027, 1, 1, 5, tzinfo=UTC))


@pytest.mark.parametrize(
    ("day", "minutes"),
    [(date(2026, 3, 8), 1_380), (date(2026, 11, 1), 1_500), (date(2026, 9, 15), 1_440)],
)
def test_given_a_day_in_eastern_time_when_measured_then_clock_change_days_have_23_or_25_hours(day, minutes):
    assert minutes_in(day_span(day)) == minutes


def test_given_a_utc_moment_just_after_midnight_utc_when_its_month_is_asked_then_the_eastern_month_is_given():
    # Given 2026-10-01 02:00 UTC, which is 2026-09-30 22:00 EDT
    moment = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
    # Then
    assert month_of(moment) == "2026-09"


def test_given_an_outage_crossing_a_month_end_when_the_months_are_listed_then_both_months_are_given():
    assert months_between(at(2026, 9, 30, 23, 40), at(2026, 10, 1, 0, 24)) == ("2026-09", "2026-10")


def test_given_a_span_crossing_the_year_end_when_the_months_are_listed_then_december_and_january_are_given():
    assert months_between(at(2026, 11, 30, 12), at(2027, 2, 1, 0, 0)) == ("2026-11", "2026-12", "2027-01", "2027-02")


def test_given_an_end_before_the_start_when_the_months_are_listed_then_only_the_start_month_is_given():
    assert months_between(at(2026, 10, 1, 1), at(2026, 9, 1, 1)) == ("2026-10",)


# ---------------------------------------------------------------- interval sets


def test_given_overlapping_and_touching_spans_when_united_then_they_merge_and_empty_spans_drop():
    # Given 10:00–10:30 and 10:20–10:40 overlap, 10:40–11:00 touches, 12:00–12:00 is empty
    spans = [
        (at(2026, 9, 10, 10, 20), at(2026, 9, 10, 10, 40)),
        (at(2026, 9, 10, 10, 0), at(2026, 9, 10, 10, 30)),
        (at(2026, 9, 10, 10, 40), at(2026, 9, 10, 11, 0)),
        (at(2026, 9, 10, 12, 0), at(2026, 9, 10, 12, 0)),
    ]
    # Then one span 10:00–11:00 EDT, in UTC
    assert union(spans) == [(datetime(2026, 9, 10, 14, 0, tzinfo=UTC), datetime(2026, 9, 10, 15, 0, tzinfo=UTC))]


def test_given_two_span_sets_when_intersected_and_subtracted_then_the_pieces_are_exact():
    # Given an outage 03:00–05:00 and a window 02:00–04:00
    outage = [(at(2026, 9, 10, 3), at(2026, 9, 10, 5))]
    window = [(at(2026, 9, 10, 2), at(2026, 9, 10, 4))]
    # Then inside the window 03:00–04:00, past it 04:00–05:00
    assert intersect(outage, window) == union([(at(2026, 9, 10, 3), at(2026, 9, 10, 4))])
    assert subtract(outage, window) == union([(at(2026, 9, 10, 4), at(2026, 9, 10, 5))])


def test_given_a_cut_inside_a_span_when_subtracted_then_two_pieces_remain():
    whole = [(at(2026, 9, 10, 10), at(2026, 9, 10, 12))]
    cut = [(at(2026, 9, 10, 10, 30), at(2026, 9, 10, 11))]
    assert subtract(whole, cut) == union(
        [(at(2026, 9, 10, 10), at(2026, 9, 10, 10, 30)), (at(2026, 9, 10, 11), at(2026, 9, 10, 12))]
    )


# ---------------------------------------------------------------- monthly availability against 99.900 %


def test_given_a_30_day_month_with_43_2_outage_minutes_when_measured_then_exactly_99_900_and_met():
    # Given September 2026 (43 200 minutes) and 43 min 12 s of outage
    level = month_with(timedelta(minutes=43, seconds=12))
    # Then
    assert level.minutes_in_period == 43_200
    assert level.outage_minutes == D("43.200")
    assert level.exact_pct == Fraction(99_900, 1_000)
    assert level.availability_pct == D("99.900")
    assert level.met is True


def test_given_a_30_day_month_with_44_outage_minutes_when_measured_then_99_898_and_missed():
    level = month_with(timedelta(minutes=44))
    assert level.outage_minutes == D("44.000")
    assert level.availability_pct == D("99.898")
    assert level.met is False


def test_given_43_21_outage_minutes_when_measured_then_missed_and_shown_truncated_not_rounded_up_to_the_target():
    # Given 43.21 minutes (43 min 12.6 s) in 30 days: 99.89997… %
    level = month_with(timedelta(minutes=43, seconds=12, milliseconds=600))
    # Then met is decided on the exact figure, and the figure shown never claims the target
    assert level.outage_minutes == D("43.210")
    assert level.exact_pct == Fraction(4_315_679, 43_200)  # 99.899976…
    half_up = (D(level.exact_pct.numerator) / D(level.exact_pct.denominator)).quantize(D("0.001"), ROUND_HALF_UP)
    assert half_up == D("99.900")  # half-up display would claim the target…
    assert level.availability_pct == D("99.899")  # …ours is cut, not rounded
    assert level.met is False


def test_given_no_outage_when_a_month_is_measured_then_100_000_and_met():
    level = measure(month_span(SEPTEMBER), [], [], NOW, DEFAULT_TARGET)
    assert level.availability_pct == D("100.000")
    assert level.outage_minutes == D("0.000")
    assert level.met is True
    assert level.shares == ()


def test_given_the_dst_month_of_november_when_44_minutes_are_out_then_the_25_hour_day_counts():
    # Given November 2026 has 43 260 minutes (the clock falls back on the 1st)
    level = month_with(timedelta(minutes=44), month="2026-11")
    # Then (43 260 − 44) / 43 260 = 99.89828… %
    assert level.minutes_in_period == 43_260
    assert level.exact_pct == Fraction(43_216, 43_260) * 100
    assert level.availability_pct == D("99.898")
    assert level.met is False


def test_given_november_when_exactly_43_26_minutes_are_out_then_99_900_and_met():
    level = month_with(timedelta(minutes=43, seconds=15, milliseconds=600), month="2026-11")
    assert level.outage_minutes == D("43.260")
    assert level.availability_pct == D("99.900")
    assert level.met is True


def test_given_march_when_44_58_minutes_are_out_then_99_900_and_met_on_its_44_580_minutes():
    level = month_with(timedelta(minutes=44, seconds=34, milliseconds=800), month="2026-03")
    assert level.minutes_in_period == 44_580
    assert level.outage_minutes == D("44.580")
    assert level.availability_pct == D("99.900")
    assert level.met is True


def test_given_an_outage_across_the_spring_clock_change_when_measured_then_it_lasts_60_real_minutes():
    # Given 2026-03-08 01:30 EST to 03:30 EDT: the wall clock says two hours, one of them never happened
    record = incident((at(2026, 3, 8, 1, 30), at(2026, 3, 8, 3, 30)))
    # When
    level = measure(month_span("2026-03"), [record], [], NOW, DEFAULT_TARGET)
    # Then
    assert level.outage_minutes == D("60.000")
    assert incident_duration(record, NOW) == 60 * 60_000_000


def test_given_an_outage_across_the_autumn_clock_change_when_measured_then_it_lasts_its_real_minutes():
    # Given 2026-11-01 00:30 EDT to 01:30 EST: 2 real hours (01:00–02:00 is lived twice)
    start = at(2026, 11, 1, 0, 30)
    end = datetime(2026, 11, 1, 1, 30, tzinfo=ET, fold=1)
    level = measure(month_span("2026-11"), [incident((start, end))], [], NOW, DEFAULT_TARGET)
    assert level.outage_minutes == D("120.000")


def test_given_an_outage_crossing_the_month_end_when_each_month_is_measured_then_it_splits_20_and_24_minutes():
    # Given 2026-09-30 23:40 EDT to 2026-10-01 00:24 EDT
    record = incident((at(2026, 9, 30, 23, 40), at(2026, 10, 1, 0, 24)))
    # When
    september = measure(month_span("2026-09"), [record], [], NOW, DEFAULT_TARGET)
    october = measure(month_span("2026-10"), [record], [], NOW, DEFAULT_TARGET)
    # Then
    assert record.months == ("2026-09", "2026-10")
    assert september.outage_minutes == D("20.000")
    assert october.outage_minutes == D("24.000")
    assert september.met is True and october.met is True


def test_given_an_outage_not_restored_yet_when_measured_then_it_lasts_until_now():
    # Given an outage since 10:00, and it is 10:50
    record = incident((at(2026, 9, 10, 10, 0), None))
    level = measure(month_span(SEPTEMBER), [record], [], at(2026, 9, 10, 10, 50), DEFAULT_TARGET)
    assert level.outage_minutes == D("50.000")


def test_given_a_day_when_measured_then_only_that_days_minutes_count():
    # Given an outage from 23:30 to 00:45 the next day
    record = incident((at(2026, 9, 10, 23, 30), at(2026, 9, 11, 0, 45)))
    level = measure(day_span(date(2026, 9, 11)), [record], [], NOW, DEFAULT_TARGET)
    assert level.minutes_in_period == 1_440
    assert level.outage_minutes == D("45.000")


# ---------------------------------------------------------------- maintenance windows and exclusions


def test_given_a_maintenance_window_02_to_04_when_the_outage_runs_03_to_05_then_60_planned_and_60_counted():
    # Given
    window = (at(2026, 9, 10, 2), at(2026, 9, 10, 4))
    record = incident((at(2026, 9, 10, 3), at(2026, 9, 10, 5)))
    # When
    level = measure(month_span(SEPTEMBER), [record], [window], NOW, DEFAULT_TARGET)
    # Then
    assert level.maintenance_minutes == D("60.000")
    assert level.outage_minutes == D("60.000")
    assert level.excluded_minutes == D("0.000")
    assert level.shares[0].outage == 60 * 60_000_000
    assert level.shares[0].maintenance == 60 * 60_000_000


def test_given_an_outage_wholly_inside_a_maintenance_window_when_measured_then_nothing_counts():
    window = (at(2026, 9, 10, 2), at(2026, 9, 10, 4))
    record = incident((at(2026, 9, 10, 2, 30), at(2026, 9, 10, 3, 30)))
    level = measure(month_span(SEPTEMBER), [record], [window], NOW, DEFAULT_TARGET)
    assert level.outage_minutes == D("0.000")
    assert level.maintenance_minutes == D("60.000")
    assert level.availability_pct == D("100.000")


def test_given_an_approved_exclusion_of_part_of_the_outage_when_measured_then_those_minutes_do_not_count():
    # Given an outage 10:00–11:00 of which 10:15–10:35 is an approved client-side failure
    record = incident(
        (at(2026, 9, 10, 10), at(2026, 9, 10, 11)),
        exclusions=(excluded(at(2026, 9, 10, 10, 15), at(2026, 9, 10, 10, 35)),),
    )
    # When
    level = measure(month_span(SEPTEMBER), [record], [], NOW, DEFAULT_TARGET)
    # Then
    assert level.excluded_minutes == D("20.000")
    assert level.outage_minutes == D("40.000")


def test_given_two_overlapping_incidents_when_measured_then_the_overlap_counts_once():
    # Given INC-1 10:00–10:40 and INC-2 10:20–11:00
    first = incident((at(2026, 9, 10, 10), at(2026, 9, 10, 10, 40)), incident_id="INC-1")
    second = incident((at(2026, 9, 10, 10, 20), at(2026, 9, 10, 11)), incident_id="INC-2")
    # When
    level = measure(month_span(SEPTEMBER), [first, second], [], NOW, DEFAULT_TARGET)
    # Then 60 minutes down, not 80; each incident keeps its own share
    assert level.outage_minutes == D("60.000")
    assert [s.outage // 60_000_000 for s in level.shares] == [40, 40]


def test_given_one_incident_excluded_where_another_overlaps_when_measured_then_the_other_still_counts():
    # Given INC-1 10:00–11:00 wholly excluded and INC-2 10:30–11:30 not
    first = incident(
        (at(2026, 9, 10, 10), at(2026, 9, 10, 11)),
        exclusions=(excluded(at(2026, 9, 10, 10), at(2026, 9, 10, 11), "security_mitigation"),),
        incident_id="INC-1",
    )
    second = incident((at(2026, 9, 10, 10, 30), at(2026, 9, 10, 11, 30)), incident_id="INC-2")
    level = measure(month_span(SEPTEMBER), [first, second], [], NOW, DEFAULT_TARGET)
    # Then 60 counted (INC-2), only 30 excluded (10:00–10:30: the rest is down anyway)
    assert level.outage_minutes == D("60.000")
    assert level.excluded_minutes == D("30.000")


def test_given_a_recurred_incident_when_measured_then_both_of_its_outages_count():
    record = incident(
        (at(2026, 9, 10, 10), at(2026, 9, 10, 10, 30)),
        (at(2026, 9, 11, 9), at(2026, 9, 11, 9, 15)),
    )
    level = measure(month_span(SEPTEMBER), [record], [], NOW, DEFAULT_TARGET)
    assert level.outage_minutes == D("45.000")
    assert incident_duration(record, NOW) == 45 * 60_000_000


# ---------------------------------------------------------------- credits


def test_given_the_default_target_when_credit_terms_are_defaulted_then_5_10_and_25_percent():
    assert default_credit_terms(D("99.900")) == (
        CreditTier(below_pct=D("99.900"), credit_pct=D("5")),
        CreditTier(below_pct=D("99.000"), credit_pct=D("10")),
        CreditTier(below_pct=D("95.000"), credit_pct=D("25")),
    )


def test_given_a_target_of_99_000_when_credit_terms_are_defaulted_then_the_99_000_tier_is_not_repeated():
    assert default_credit_terms(D("99.000")) == (
        CreditTier(below_pct=D("99.000"), credit_pct=D("5")),
        CreditTier(below_pct=D("95.000"), credit_pct=D("25")),
    )


@pytest.mark.parametrize(
    ("outage", "pct"),
    [
        (timedelta(minutes=43, seconds=12), D("0")),  # 99.900: met, no credit
        (timedelta(minutes=44), D("5")),  # 99.898
        (timedelta(minutes=432), D("5")),  # exactly 99.000: not below it
        (timedelta(minutes=432, seconds=1), D("10")),  # just below 99.000
        (timedelta(minutes=2_160), D("10")),  # exactly 95.000
        (timedelta(minutes=2_200), D("25")),  # 94.907
    ],
)
def test_given_a_months_availability_when_credited_then_the_lowest_tier_it_fell_below_decides(outage, pct):
    level = month_with(outage)
    assert credit_pct(default_credit_terms(DEFAULT_TARGET), level) == pct


# ---------------------------------------------------------------- service desk (rule 26)


def calls(answered_within: int = 0, answered_late: int = 0, abandoned_within: int = 0, abandoned_late: int = 0):
    return (
        [DeskCall(outcome="answered", wait_seconds=D("12.0"))] * answered_within
        + [DeskCall(outcome="answered", wait_seconds=D("45.5"))] * answered_late
        + [DeskCall(outcome="abandoned", wait_seconds=D("3.0"))] * abandoned_within
        + [DeskCall(outcome="abandoned", wait_seconds=D("90.0"))] * abandoned_late
    )


def test_given_80_of_100_calls_answered_within_20_seconds_when_the_desk_is_measured_then_80_0_and_met():
    level = DeskLevel.of(calls(answered_within=80, answered_late=20))
    assert level.calls == 100
    assert level.within_pct == D("80.0")
    assert level.met is True


def test_given_79_of_100_calls_within_20_seconds_when_the_desk_is_measured_then_79_0_and_missed():
    level = DeskLevel.of(calls(answered_within=79, answered_late=21))
    assert level.within_pct == D("79.0")
    assert level.met is False


def test_given_calls_abandoned_within_20_seconds_when_the_desk_is_measured_then_they_count_as_met():
    # Given 70 answered in time, 10 abandoned in time, 15 answered late, 5 abandoned late
    level = DeskLevel.of(calls(answered_within=70, abandoned_within=10, answered_late=15, abandoned_late=5))
    assert (level.answered, level.answered_within, level.abandoned, level.abandoned_within) == (85, 70, 15, 10)
    assert level.within_pct == D("80.0")
    assert level.met is True


def test_given_a_call_answered_at_exactly_20_seconds_when_measured_then_it_is_within():
    level = DeskLevel.of(
        [DeskCall(outcome="answered", wait_seconds=D("20.0")), DeskCall(outcome="abandoned", wait_seconds=D("20.0"))]
    )
    assert level.answered_within == 1 and level.abandoned_within == 1
    assert level.within_pct == D("100.0")


def test_given_a_call_answered_at_20_1_seconds_when_measured_then_it_is_late():
    level = DeskLevel.of([DeskCall(outcome="answered", wait_seconds=D("20.1"))])
    assert level.within_pct == D("0.0")
    assert level.met is False


def test_given_no_calls_when_the_desk_is_measured_then_there_is_no_figure():
    level = DeskLevel.of([])
    assert level.calls == 0
    assert level.exact_pct is None
    assert level.within_pct is None
    assert level.met is None


def test_given_2_of_3_calls_within_when_measured_then_the_figure_is_truncated_to_66_6():
    level = DeskLevel.of(calls(answered_within=2, answered_late=1))
    assert level.within_pct == D("66.6")


def test_given_two_reports_when_their_levels_are_added_then_the_month_counts_both():
    total = DeskLevel.of(calls(answered_within=40, answered_late=10)) + DeskLevel.of(
        calls(answered_within=39, abandoned_within=1, abandoned_late=10)
    )
    assert total == DeskLevel(answered=89, answered_within=79, abandoned=11, abandoned_within=1)
    assert total.within_pct == D("80.0")
    assert total.met is True
