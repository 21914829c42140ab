"""Repeating sessions (series): an RRULE that always ends, one stored row per occurrence.

A series is defined by an RFC 5545 RRULE value kept on ``Series.rrule``; its DTSTART is the
first occurrence's ``original_start``. Rules are expanded in Tokyo wall-clock time (naive
Tokyo datetimes, then Asia/Tokyo attached and converted to UTC), so "every Thursday 14:00"
stays 14:00 in Tokyo whatever happens to UTC offsets.

Each occurrence is an ordinary ``MeetingSession`` that remembers the start the rule gave it
(``original_start``, its RECURRENCE-ID). Moving or cancelling one occurrence is simply
``scheduling.update_session`` / ``scheduling.cancel_session`` on that row; ``exdates`` and
``overrides`` read those back for calendars. ``update_following`` changes "this and the
following" occurrences by splitting the series in two.
"""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulestr
from sqlalchemy.orm import Session

from renkei.i18n import lazy_gettext as _l
from renkei.models import MeetingSession, Person, Series, Status
from renkei.services import scheduling
from renkei.services.dates import TOKYO, in_tokyo, tokyo_to_utc
from renkei.services.errors import DomainError

WEEKLY = "weekly"
MONTHLY_BY_DATE = "monthly_by_date"
MONTHLY_BY_WEEKDAY = "monthly_by_weekday"
FREQUENCIES = (WEEKLY, MONTHLY_BY_DATE, MONTHLY_BY_WEEKDAY)

MAX_OCCURRENCES = 120
MAX_YEARS = 5
MAX_INTERVAL = 12
# Monthly "on the 29th/30th/31st" would silently skip the months without that day.
MAX_MONTH_DAY = 28

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # index = datetime.weekday()
UNTIL_FORMAT = "%Y%m%dT%H%M%SZ"


@dataclass
class RepeatRule:
    """How a session repeats, as the secretary chose it.

    ``until`` is the last day (a Tokyo date, inclusive); exactly one of ``until`` and
    ``count`` is given. Monthly-by-weekday takes the ordinal and weekday from the first
    start (the 2nd Thursday stays the 2nd Thursday; a 5th one means "the last").
    """

    frequency: str
    interval: int = 1
    until: date | None = None
    count: int | None = None


# --- Rules --------------------------------------------------------------------------------


def _local(moment: datetime) -> datetime:
    """A UTC (or any aware) moment as a naive Tokyo wall-clock datetime."""
    return in_tokyo(moment).replace(tzinfo=None)


def _utc(local: datetime) -> datetime:
    return local.replace(tzinfo=TOKYO).astimezone(UTC)


def _until_utc(day: date) -> datetime:
    """The last second of a Tokyo day, in UTC: UNTIL for "until that day, inclusive"."""
    return tokyo_to_utc(day + timedelta(days=1), time(0, 0)) - timedelta(seconds=1)


def _weekday_ordinal(local: datetime) -> int:
    """1–4 for the 1st–4th such weekday of the month; -1 for a 5th one (the last)."""
    ordinal = (local.day - 1) // 7 + 1
    return -1 if ordinal == 5 else ordinal


def _rrule_value(
    frequency: str,
    interval: int,
    first_local: datetime,
    *,
    until: datetime | None = None,
    count: int | None = None,
) -> str:
    """Build an RRULE value; ``until`` is an aware moment, written as UTC."""
    parts = ["FREQ=WEEKLY" if frequency == WEEKLY else "FREQ=MONTHLY"]
    if interval != 1:
        parts.append(f"INTERVAL={interval}")
    if frequency == MONTHLY_BY_DATE:
        parts.append(f"BYMONTHDAY={first_local.day}")
    elif frequency == MONTHLY_BY_WEEKDAY:
        parts.append(f"BYDAY={_weekday_ordinal(first_local)}{WEEKDAYS[first_local.weekday()]}")
    if until is not None:
        parts.append(f"UNTIL={until.astimezone(UTC):{UNTIL_FORMAT}}")
    elif count is not None:
        parts.append(f"COUNT={count}")
    return ";".join(parts)


def to_rrule(rule: RepeatRule, first_start_tokyo: datetime) -> str:
    """The RFC 5545 RRULE value for ``rule`` starting at ``first_start_tokyo`` (aware).

    E.g. ``FREQ=WEEKLY;INTERVAL=2;COUNT=6`` or ``FREQ=MONTHLY;BYDAY=2TH;UNTIL=20270331T145959Z``.
    """
    return _rrule_value(
        rule.frequency,
        rule.interval,
        _local(first_start_tokyo),
        until=_until_utc(rule.until) if rule.until is not None else None,
        count=rule.count,
    )


def _parts(value: str) -> dict[str, str]:
    value = value.strip()
    if value.upper().startswith("RRULE:"):
        value = value[len("RRULE:") :]
    parts = {}
    for part in value.split(";"):
        if part:
            name, _, setting = part.partition("=")
            parts[name.strip().upper()] = setting.strip()
    return parts


def _join(parts: dict[str, str]) -> str:
    return ";".join(f"{name}={setting}" for name, setting in parts.items())


def _never_ends() -> DomainError:
    return DomainError(
        _l("A repeating session must end: enter an end date or a number of sessions."),
        "repeat_until",
    )


def _month_day_too_late() -> DomainError:
    return DomainError(
        _l(
            "A monthly session on a date can only fall on the 1st to the 28th; "
            "repeat on a weekday of the month instead (for example the last Friday)."
        ),
        "repeat",
    )


def _expand(value: str, first_start: datetime) -> Iterator[datetime]:
    """Iterate the starts of an RRULE (UTC aware), expanded on naive Tokyo wall-clock time."""
    parts = _parts(value)
    if "UNTIL" not in parts and "COUNT" not in parts:
        raise _never_ends()
    until = parts.get("UNTIL", "")
    if until.upper().endswith("Z"):  # a UTC moment: the same moment on the Tokyo wall clock
        moment = datetime.strptime(until.upper(), UNTIL_FORMAT).replace(tzinfo=UTC)
        parts["UNTIL"] = f"{_local(moment):%Y%m%dT%H%M%S}"
    rule = rrulestr(_join(parts), dtstart=_local(first_start))
    return (_utc(local) for local in rule)


def occurrence_starts(rrule: str, first_start: datetime) -> list[datetime]:
    """Every start the rule gives from ``first_start`` on, UTC aware, in order.

    Refuses (DomainError) a rule that neither ends (UNTIL) nor counts (COUNT).
    """
    return list(_expand(rrule, first_start))


def validate_rule(rule: RepeatRule, first_start: datetime) -> None:
    """Raise DomainError unless ``rule`` repeats within the limits: it must end (by a date or a
    count), give 2–120 sessions within 5 years, and repeat every 1–12 weeks or months."""
    if rule.frequency not in FREQUENCIES:
        raise DomainError(_l("Choose how the session repeats."), "repeat")
    if (
        not isinstance(rule.interval, int)
        or isinstance(rule.interval, bool)
        or not 1 <= rule.interval <= MAX_INTERVAL
    ):
        raise DomainError(
            _l("Repeat every 1 to %(max)s weeks or months.", max=MAX_INTERVAL), "repeat_interval"
        )
    if rule.until is None and rule.count is None:
        raise _never_ends()
    if rule.until is not None and rule.count is not None:
        raise DomainError(
            _l("Enter either an end date or a number of sessions, not both."), "repeat_count"
        )
    first_local = _local(first_start)
    if rule.frequency == MONTHLY_BY_DATE and first_local.day > MAX_MONTH_DAY:
        raise _month_day_too_late()
    field = "repeat_until" if rule.until is not None else "repeat_count"
    latest = first_local.date() + relativedelta(years=MAX_YEARS)
    if rule.count is not None:
        if not isinstance(rule.count, int) or isinstance(rule.count, bool) or rule.count < 2:
            raise DomainError(_l("A repeating session needs at least 2 sessions."), field)
        if rule.count > MAX_OCCURRENCES:
            raise DomainError(
                _l("A series can have at most %(max)s sessions.", max=MAX_OCCURRENCES), field
            )
    elif rule.until is not None:  # always, by the checks above
        if rule.until < first_local.date():
            raise DomainError(
                _l("The end date must be on or after the date of the first session."), field
            )
        if rule.until > latest:
            raise DomainError(
                _l(
                    "A series can last at most %(years)s years: choose an earlier end date.",
                    years=MAX_YEARS,
                ),
                field,
            )
    starts = list(islice(_expand(to_rrule(rule, first_start), first_start), MAX_OCCURRENCES + 1))
    if len(starts) > MAX_OCCURRENCES:
        raise DomainError(
            _l(
                "This end date gives more than %(max)s sessions, the most a series can have: "
                "choose an earlier end date.",
                max=MAX_OCCURRENCES,
            ),
            field,
        )
    if len(starts) < 2:
        raise DomainError(_l("Choose an end date that leaves at least 2 sessions."), field)
    if _local(starts[-1]).date() > latest:
        raise DomainError(
            _l(
                "A series can last at most %(years)s years: choose fewer sessions.",
                years=MAX_YEARS,
            ),
            field,
        )


# --- Series -------------------------------------------------------------------------------


def create_series(
    db: Session, data: scheduling.SessionData, rule: RepeatRule, *, by: Person
) -> Series:
    """Create a series and one session per occurrence, each with the duration of ``data``.

    ``data.start`` is the first occurrence. Nothing is written unless both the session data
    and the rule are valid.
    """
    scheduling.validate(db, data, by=by)
    validate_rule(rule, data.start)
    value = to_rrule(rule, data.start)
    starts = occurrence_starts(value, data.start)
    if not starts or starts[0] != data.start:  # our rules are derived from the first start
        raise DomainError(_l("Choose how the session repeats."), "repeat")
    duration = data.end - data.start
    series = Series(rrule=value)
    db.add(series)
    scheduling.create_sessions(
        db,
        [
            (
                replace(data, start=start, end=start + duration),
                {"series": series, "original_start": start},
            )
            for start in starts
        ],
        by=by,
    )
    return series


def _by_original_start(series: Series) -> list[MeetingSession]:
    return sorted(series.sessions, key=lambda s: (s.original_start, s.id))


def first_start(series: Series) -> datetime:
    """The series' DTSTART: the original start of its first occurrence."""
    return _by_original_start(series)[0].rule_start


def exdates(series: Series) -> list[datetime]:
    """Original starts (RECURRENCE-IDs) of the cancelled occurrences, in order."""
    return [s.rule_start for s in _by_original_start(series) if s.status == Status.CANCELLED]


def overrides(series: Series) -> list[MeetingSession]:
    """Occurrences moved away from the start the rule gave them, and not cancelled."""
    return [s for s in _by_original_start(series) if s.is_moved and s.status != Status.CANCELLED]


def _frequency(parts: dict[str, str]) -> str:
    if parts.get("FREQ") == "WEEKLY":
        return WEEKLY
    return MONTHLY_BY_WEEKDAY if "BYDAY" in parts else MONTHLY_BY_DATE


def update_following(
    db: Session, session: MeetingSession, data: scheduling.SessionData, *, by: Person
) -> Series:
    """Change this occurrence and every later one ("this and following").

    The series is split: its rule is cut to end just before this occurrence, and a new
    series with the same pattern takes this and the later occurrences. Title, place, link,
    mode, notes, bodies, host and presiding person are set from ``data`` on each of them that
    is not cancelled; the time change is applied as a shift (``data.start`` minus this
    occurrence's current start, with the duration of ``data``). Their original starts move
    with the rule, so the new rule and its occurrences agree (a monthly rule takes its day
    or weekday of the month from this occurrence's new slot). Cancelled occurrences stay
    cancelled. Returns the series now holding this occurrence: the new one, or the same
    one when this is the first occurrence (then nothing needs splitting).
    """
    old = session.series
    if old is None or session.original_start is None:
        raise DomainError(_l("This session is not part of a series."))
    scheduling.require_manager(db, session, by)
    scheduling.validate(db, data, by=by)
    rows = _by_original_start(old)
    cut = session.original_start
    earlier = [s for s in rows if s.rule_start < cut]
    later = [s for s in rows if s.rule_start >= cut]
    for row in later:
        if row.status != Status.CANCELLED:
            scheduling.require_manager(db, row, by)

    parts = _parts(old.rrule)
    frequency = _frequency(parts)
    interval = int(parts.get("INTERVAL", "1"))
    shift = data.start - session.start_at
    duration = data.end - data.start
    new_first = cut + shift
    if frequency == MONTHLY_BY_DATE and _local(new_first).day > MAX_MONTH_DAY:
        raise _month_day_too_late()
    # Same pattern from the new first slot; keep the old end if it still gives exactly these
    # occurrences, otherwise end by their number.
    value = None
    if "UNTIL" in parts:
        candidate = _rrule_value(frequency, interval, _local(new_first))
        candidate += f";UNTIL={parts['UNTIL']}"
        if len(occurrence_starts(candidate, new_first)) == len(later):
            value = candidate
    if value is None:
        value = _rrule_value(frequency, interval, _local(new_first), count=len(later))
    slots = occurrence_starts(value, new_first)

    if earlier:
        old_parts = {name: setting for name, setting in parts.items() if name != "COUNT"}
        old_parts["UNTIL"] = f"{(cut - timedelta(seconds=1)).astimezone(UTC):{UNTIL_FORMAT}}"
        old.rrule = _join(old_parts)
        # The earlier part's rule changed: its calendars are told (services/notices.py).
        for row in earlier:
            row.note_change()
        target = Series(rrule=value)
        db.add(target)
    else:
        old.rrule = value
        target = old

    for row, slot in zip(later, slots, strict=True):
        delta = slot - row.rule_start
        row.series = target
        row.original_start = slot
        if row.status == Status.CANCELLED:
            continue
        start = row.start_at + delta
        scheduling.update_session(db, row, replace(data, start=start, end=start + duration), by=by)
    db.flush()
    return target
