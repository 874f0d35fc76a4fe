"""The clinic's clock: the one source of "now" and "today", in the clinic's time zone.

Every date rule (an intake cannot be in the future, a visit can be missed only once its day
has come, the day list, a discharge's end date) asks this object, so a workstation whose
operating system runs on UTC and a clinic in Sydney agree on what "today" is.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import zoneinfo
from collections.abc import Callable
from pathlib import Path

Instant = Callable[[], dt.datetime]

TIME_ZONE_FIELD = "time_zone"
_ZONEINFO_ROOTS = ("/usr/share/zoneinfo/", "/usr/lib/zoneinfo/", "/usr/share/lib/zoneinfo/")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@functools.cache
def _iana_names() -> frozenset[str]:
    # Walking the time zone database takes a tenth of a second: once per process is enough.
    return frozenset(zoneinfo.available_timezones())


def time_zone_problem(name: str) -> str | None:
    """One sentence naming the field and the rule when ``name`` is not an IANA time zone."""
    if name in _iana_names():
        return None
    return (
        f"Time zone must be an IANA time zone name such as Australia/Sydney or "
        f"Pacific/Honolulu; {name!r} is not one."
    )


def known_time_zones() -> list[str]:
    """Every IANA time zone name this computer knows, sorted, for a picker to offer."""
    return sorted(_iana_names())


def workstation_zone_name() -> str | None:
    """The IANA name of this computer's time zone, when the operating system tells it.

    Python has no portable call for it: the TZ variable or the /etc/localtime link names it
    on Linux and macOS; elsewhere (Windows) the clinic sets it in the Clinic settings.
    """
    candidates = [os.environ.get("TZ", "").removeprefix(":")]
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        target = str(localtime.resolve())
        candidates += [target.removeprefix(root) for root in _ZONEINFO_ROOTS if root in target]
        candidates += [target.split("zoneinfo/", 1)[-1]]
    return next((name for name in candidates if name and time_zone_problem(name) is None), None)


class ClinicClock:
    """Now and today in the clinic's time zone (the workstation's while none is set).

    ``instant`` gives the current moment (tests pass a fixed one); ``zone_name`` is the
    clinic's IANA setting, kept current by the clinic service when it is read or changed.
    """

    def __init__(self, instant: Instant = utc_now, zone_name: str | None = None) -> None:
        self._instant = instant
        self._zone: zoneinfo.ZoneInfo | None = None
        self.set_zone(zone_name)

    @property
    def zone(self) -> zoneinfo.ZoneInfo | None:
        """The clinic's zone, or None while the workstation's own zone stands in."""
        return self._zone

    @property
    def zone_name(self) -> str | None:
        return self._zone.key if self._zone is not None else None

    def set_zone(self, zone_name: str | None) -> None:
        # A name this computer's time zone data lacks (written by a newer workstation) falls
        # back to the workstation's zone rather than refusing to start.
        if zone_name and time_zone_problem(zone_name) is None:
            self._zone = zoneinfo.ZoneInfo(zone_name)
        else:
            self._zone = None

    def now(self) -> dt.datetime:
        """The current moment, timezone-aware, expressed in the clinic's zone."""
        return self.in_zone(self._instant())

    def today(self) -> dt.date:
        """The clinic's calendar day right now."""
        return self.now().date()

    def in_zone(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` (timezone-aware) as the clinic's wall clock shows it."""
        return moment.astimezone(self._zone) if self._zone is not None else moment.astimezone()

    def date_of(self, moment: dt.datetime) -> dt.date:
        """The clinic's calendar day of a moment: the day the clinic saw the patient."""
        return self.in_zone(moment).date()

    def at(self, day: dt.date, time: dt.time) -> dt.datetime:
        """The moment the clinic's wall clock reads ``time`` on ``day``."""
        if self._zone is not None:
            return dt.datetime.combine(day, time, tzinfo=self._zone)
        return dt.datetime.combine(day, time).astimezone()
