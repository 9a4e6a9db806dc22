"""The board's calendar: its time zone, and the days release times fall on."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

BOARD_TIME_ZONE = ZoneInfo("Europe/London")


def board_day(moment: datetime, zone: ZoneInfo = BOARD_TIME_ZONE) -> date:
    """The calendar day ``moment`` falls on in the board's time zone."""
    return moment.astimezone(zone).date()


def board_time(moment: datetime, zone: ZoneInfo = BOARD_TIME_ZONE) -> datetime:
    """``moment`` as the board's clocks show it."""
    return moment.astimezone(zone)


def start_of_day_after(day: date, zone: ZoneInfo = BOARD_TIME_ZONE) -> datetime:
    """Midnight at the end of ``day`` in the board's time zone (DST-correct)."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone)
