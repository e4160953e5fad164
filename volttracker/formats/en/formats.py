"""One way to write a time on every page: "Thu 3 Dec 2026, 13:39" (24-hour), lists "2026-12-03 13:39".

Django's English locale would print "Dec. 3, 2026, 1:39 p.m." in the admin next to the pages' own
formats; FORMAT_MODULE_PATH makes these win over the locale's.
"""

DATE_FORMAT = "D j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "D j M Y, H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
