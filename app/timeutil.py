"""Time helpers: every datetime in the app is timezone-aware UTC (SQLModel stores it so)."""
from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_timestamp(value: str | None) -> datetime | None:
    """Parse an RFC 3339 / ISO 8601 timestamp into aware UTC; None if absent or unreadable.
    A timestamp without an offset is taken as UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def isoformat(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with a Z, as the API shows times."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# ---- showing times to people ------------------------------------------------------------------
# Times are stored and sent by the API in UTC (isoformat above); pages show them in the time zone
# of the warehouse they are about, formatted by Babel for the reader's language (CLDR patterns:
# "3 Dec 2026, 7:30 am" in en-NZ, "Dec 3, 2026, 7:30 AM" in en-US, "03.12.2026, 07:30" in de).

DEFAULT_LOCALE = "en"


@lru_cache(maxsize=1)
def time_zone_names() -> frozenset[str]:
    """Every IANA time zone name this machine knows (the tzdata package's list)."""
    return frozenset(available_timezones())


def time_zone(name) -> ZoneInfo | None:
    """The zone of an IANA name (exactly as listed: "Pacific/Auckland"), or None for anything else
    (blank, unknown, a path): only names from the list ever reach ZoneInfo."""
    if isinstance(name, str) and name in time_zone_names():
        return ZoneInfo(name)
    return None


@lru_cache(maxsize=64)
def _locale(name: str | None) -> Locale:
    try:
        return Locale.parse((name or DEFAULT_LOCALE).replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return Locale.parse(DEFAULT_LOCALE)


def locale_for(languages) -> str:
    """The first of the reader's languages (e.g. an Accept-Language list, best first) that Babel
    has data for; DEFAULT_LOCALE otherwise."""
    for language in languages or ():
        if not isinstance(language, str) or not language or len(language) > 35 or language == "*":
            continue
        try:
            Locale.parse(language.replace("-", "_"))
        except (ValueError, TypeError, UnknownLocaleError):
            continue
        return language.replace("-", "_")
    return DEFAULT_LOCALE


@lru_cache(maxsize=64)
def _datetime_pattern(locale: Locale) -> str:
    """The locale's medium date with its short time (no seconds), joined the locale's way."""
    joined = str(locale.datetime_formats["medium"])
    return joined.replace("{1}", locale.date_formats["medium"].pattern).replace(
        "{0}", locale.time_formats["short"].pattern)


def _as_datetime(value) -> datetime | date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:  # a day: 2026-12-02
            try:
                return date.fromisoformat(text)
            except ValueError:
                return None
        return parse_timestamp(text)
    return None


def local_text(value, zone: ZoneInfo | None, locale: str | None = None, kind: str = "datetime") -> str:
    """A stored time (aware or naive UTC datetime, an ISO 8601 string, or a date) as a person reads
    it in `zone` (UTC when None): kind "datetime" (date and time), "date" or "time"; "" for none.
    A date (a day without a time, as a PO's expected day) is shown as that day, never moved."""
    moment = _as_datetime(value)
    if moment is None:
        return "" if value in (None, "") else str(value)
    babel_locale = _locale(locale)
    if not isinstance(moment, datetime):
        return format_date(moment, "medium", locale=babel_locale)
    moment = moment.astimezone(zone or UTC)
    if kind == "date":
        return format_date(moment, "medium", locale=babel_locale)
    if kind == "time":
        return format_time(moment, "short", locale=babel_locale)
    return format_datetime(moment, _datetime_pattern(babel_locale), locale=babel_locale)
