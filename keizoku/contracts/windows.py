"""The one place that decides a contract's web renewal window (RATING.md §4), in JST.

The window opens at 00:00 JST ``renewal_window_days`` days before the expiry date and closes at
15:59 JST on the expiry day (cover ends at 16:00; the last minute is kept free so that an
application is never taken after its cover has changed). Open means opens_at ≤ now < closes_at.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")
CLOSING_TIME = time(15, 59)


class WindowState(StrEnum):
    NOT_YET = "not_yet"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class RenewalWindow:
    opens_at: datetime
    closes_at: datetime

    def state(self, now: datetime) -> WindowState:
        if now < self.opens_at:
            return WindowState.NOT_YET
        if now < self.closes_at:
            return WindowState.OPEN
        return WindowState.CLOSED

    def is_open(self, now: datetime) -> bool:
        return self.state(now) is WindowState.OPEN


def renewal_window(*, period_end: date, window_days: int) -> RenewalWindow:
    opens = datetime.combine(period_end - timedelta(days=window_days), time(0, 0), tzinfo=JST)
    closes = datetime.combine(period_end, CLOSING_TIME, tzinfo=JST)
    return RenewalWindow(opens_at=opens, closes_at=closes)


def contract_window(contract) -> RenewalWindow:
    """The window of a ``Contract`` (its group decides how many days before expiry it opens)."""
    return renewal_window(
        period_end=contract.period_end, window_days=contract.group.renewal_window_days
    )
