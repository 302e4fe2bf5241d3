"""Federal government working days (rule 11: delivery within 30 federal working days).

Weekends and federal public-service holidays are not working days: the `holidays` package's
Canadian GOVERNMENT category plus Easter Monday and the civic holiday (first Monday of
August), which the public-service agreements add.
"""

from __future__ import annotations

from datetime import date

import pytest

from events.kernel.working_days import add_working_days, is_working_day, working_days_between


def test_given_an_ordinary_tuesday_then_it_is_a_working_day():
    assert is_working_day(date(2026, 6, 16))


@pytest.mark.parametrize("day", [date(2026, 6, 13), date(2026, 6, 14)], ids=["sat", "sun"])
def test_given_a_weekend_day_then_it_is_not_a_working_day(day):
    assert not is_working_day(day)


@pytest.mark.parametrize("easter_monday", [date(2026, 4, 6), date(2027, 3, 29)])
def test_given_easter_monday_then_it_is_not_a_working_day(easter_monday):
    # Given Easter Sunday 2026-04-05 and 2027-03-28
    assert easter_monday.weekday() == 0
    # Then
    assert not is_working_day(easter_monday)


@pytest.mark.parametrize("civic_holiday", [date(2026, 8, 3), date(2027, 8, 2)])
def test_given_the_civic_holiday_first_monday_of_august_then_not_a_working_day(civic_holiday):
    assert not is_working_day(civic_holiday)


def test_given_the_second_monday_of_august_then_it_is_a_working_day():
    assert is_working_day(date(2026, 8, 10))


@pytest.mark.parametrize(
    "holiday",
    [
        date(2026, 12, 25),  # Christmas Day, a Friday
        date(2026, 12, 28),  # Boxing Day (Saturday) observed on Monday
        date(2027, 1, 1),  # New Year's Day
        date(2026, 9, 30),  # National Day for Truth and Reconciliation
        date(2026, 11, 11),  # Remembrance Day
    ],
)
def test_given_a_federal_holiday_on_a_weekday_then_it_is_not_a_working_day(holiday):
    assert holiday.weekday() < 5
    assert not is_working_day(holiday)


def test_given_23_december_2026_when_adding_3_working_days_then_christmas_is_skipped():
    # Given Wed 23 Dec; Thu 24 is day 1; Fri 25 Christmas, the weekend, Mon 28 Boxing Day
    # observed; Tue 29 is day 2 and Wed 30 is day 3
    # When / Then
    assert add_working_days(date(2026, 12, 23), 3) == date(2026, 12, 30)


def test_given_an_award_on_23_november_2026_when_adding_30_working_days_then_7_january():
    # Given 30 weekdays after Mon 2026-11-23 would be Mon 2027-01-04; three holidays fall in
    # between (Christmas, Boxing Day observed, New Year's Day), pushing it 3 working days on
    # When / Then
    assert add_working_days(date(2026, 11, 23), 30) == date(2027, 1, 7)


def test_given_a_friday_when_adding_one_working_day_then_the_next_monday():
    assert add_working_days(date(2026, 6, 12), 1) == date(2026, 6, 15)


def test_given_the_day_before_the_civic_holiday_weekend_when_adding_one_day_then_tuesday():
    # Given Fri 2026-07-31; Mon 2026-08-03 is the civic holiday
    assert add_working_days(date(2026, 7, 31), 1) == date(2026, 8, 4)


def test_given_the_christmas_fortnight_when_counting_working_days_then_holidays_excluded():
    # Given 21 Dec 2026 to 3 Jan 2027: weekdays 22, 23, 24, 29, 30, 31 Dec
    assert working_days_between(date(2026, 12, 21), date(2027, 1, 3)) == 6


def test_given_an_end_before_the_start_when_counting_working_days_then_zero():
    assert working_days_between(date(2026, 6, 16), date(2026, 6, 15)) == 0
