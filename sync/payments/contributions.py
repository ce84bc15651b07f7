"""What a BPU member owes (docs/domain.md "Contributions"): the monthly amount, the first month, the unpaid streak."""

from __future__ import annotations

import datetime as dt

from sync.calendar import workdays

JKM, JKK_RATE, JKK_MIN, JHT_RATE = 6_800, 0.01, 10_000, 0.02


def monthly_contribution(monthly_income: float | None, programs: str | None) -> int:
    """JKK 1% of declared income (min Rp10,000) + JKM Rp6,800 (+ JHT 2% when chosen)."""
    income = float(monthly_income or 0)
    amount = max(JKK_MIN, round(income * JKK_RATE)) + JKM
    if programs and "JHT" in programs.upper().split(","):
        amount += round(income * JHT_RATE)
    return int(amount)


def first_month(enrolled_at: int, tz: str) -> str:
    """The first contribution month: the enrolment month, or the next one if its deadline had passed."""
    day = workdays.to_local(enrolled_at, tz).date()
    month = workdays.month_of(day)
    return month if day <= workdays.payment_deadline(month) else workdays.add_months(month, 1)


def unpaid_streak(first: str, today: dt.date, paid: set[str]) -> tuple[int, str | None]:
    """Consecutive unpaid months whose deadline has passed, ending at the latest such month."""
    month = workdays.month_of(today)
    if today <= workdays.payment_deadline(month):
        month = workdays.add_months(month, -1)
    latest = month if month >= first else None
    streak = 0
    while month >= first and month not in paid and streak < 24:
        streak += 1
        month = workdays.add_months(month, -1)
    return streak, latest
