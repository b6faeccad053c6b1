"""Dates as a Japanese customer reads them (FORMAT_MODULE_PATH): 2026年4月1日, 2026年4月1日 15:59."""

DATE_FORMAT = "Y年n月j日"
DATETIME_FORMAT = "Y年n月j日 H:i"
SHORT_DATE_FORMAT = "Y/m/d"
SHORT_DATETIME_FORMAT = "Y/m/d H:i"
MONTH_DAY_FORMAT = "n月j日"
YEAR_MONTH_FORMAT = "Y年n月"
TIME_FORMAT = "H:i"
# The deadline of a reminder, with the day of the week: 2026年12月25日（金）15時59分.
DEADLINE_FORMAT = "Y年n月j日（D）G時i分"
