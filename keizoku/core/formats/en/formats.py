"""Dates in English mode (FORMAT_MODULE_PATH): April 1, 2026 and April 1, 2026 15:59 (Japan time,
24-hour clock, as the times of the service are given in JST)."""

DATE_FORMAT = "F j, Y"
DATETIME_FORMAT = "F j, Y H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
MONTH_DAY_FORMAT = "F j"
YEAR_MONTH_FORMAT = "F Y"
TIME_FORMAT = "H:i"
# The deadline of a reminder, with the day of the week: Friday, December 25, 2026, 15:59.
DEADLINE_FORMAT = "l, F j, Y, H:i"
