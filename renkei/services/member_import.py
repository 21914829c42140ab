"""Importing the members of a body from a CSV file: a preview first, then the commit.

Municipal spreadsheets save CSV as UTF-8 (with or without a BOM) or as Shift_JIS (CP932), so
both are read. Every bad line is reported with its number as the spreadsheet shows it (the
heading is line 1), and nothing is written unless the whole file is valid. The commit reads
the text again from the start: nothing the preview page posts back is trusted.

No Flask request objects here: the view hands over the bytes or the text.
"""

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import String, func, select
from sqlalchemy.orm import Session

from renkei import textnorm
from renkei.db import table_of
from renkei.i18n import LazyText
from renkei.i18n import lazy_gettext as _l
from renkei.models import Body, Membership, Organisation, Person, Role
from renkei.services import audit, notices, policy
from renkei.services.accounts import validate_email
from renkei.services.dates import today
from renkei.services.errors import DomainError, Forbidden
from renkei.services.memberships import MembershipData, validate

MAX_ROWS = 2000

# Column key -> the headings accepted for it (English ones compared case-insensitively).
HEADINGS = {
    "name": ("氏名", "name"),
    "kana": ("ふりがな", "kana"),
    "email": ("メールアドレス", "email"),
    "phone": ("電話番号", "phone"),
    "organisation": ("所属機関", "organisation"),
    "role": ("役割", "role"),
    "term_start": ("任期開始", "term_start"),
    "term_end": ("任期終了", "term_end"),
}
_HEADING_KEYS = {heading: key for key, headings in HEADINGS.items() for heading in headings}


def _length(column: str) -> int:
    """The length of a string column of Person."""
    kind = table_of(Person).c[column].type
    if not isinstance(kind, String) or kind.length is None:
        raise TypeError(f"people.{column} is not a string column of bounded length")
    return kind.length


# Lengths of the Person columns the text goes into, read from the model so they cannot drift.
MAX_LENGTHS = {key: _length(key) for key in ("name", "kana", "email", "phone")}

# The role words secretaries write. 会長/副会長 are what many 協議体 call their chair.
ROLE_WORDS = {
    "議長": Role.CHAIR,
    "会長": Role.CHAIR,
    "副議長": Role.VICE_CHAIR,
    "副会長": Role.VICE_CHAIR,
    "事務局": Role.SECRETARY,
    "構成員": Role.MEMBER,
    "オブザーバー": Role.OBSERVER,
}
ROLE_HINT = (
    "議長, 副議長, 事務局, 構成員, オブザーバー (chair, vice_chair, secretary, member, observer)"
)

# Year first, "-" or "/" throughout; Excel writes 2025/4/1, so one-digit months and days too.
_DATE = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})")

# What CP932 turns stray single bytes (0x80, 0xA0, 0xFD-0xFF) into. Real Shift_JIS text never
# holds them, but a UTF-16 file (Excel's "Unicode text", BOM FF FE) decodes to them without
# an error, so they mark the file as unreadable rather than as odd names.
_CP932_STRAYS = frozenset("\x80\uf8f0\uf8f1\uf8f2\uf8f3")


def _column_labels() -> dict[str, LazyText]:
    return {
        "name": _l("Name"),
        "kana": _l("Name in kana"),
        "email": _l("E-mail address"),
        "phone": _l("Telephone"),
        "organisation": _l("Organisation"),
        "role": _l("Role"),
        "term_start": _l("Term starts"),
        "term_end": _l("Term ends"),
    }


@dataclass(frozen=True)
class LineError:
    """One reason the file cannot be imported. ``line`` is None for the file as a whole;
    ``code`` is a stable word for what is wrong, ``message`` the translated sentence."""

    line: int | None
    code: str
    message: str


@dataclass
class ImportRow:
    """One data line: the values as written, what they mean, and what is wrong with them."""

    line: int
    raw: dict[str, str]
    email: str | None = None
    role: Role | None = None
    term_start: date | None = None
    term_end: date | None = None
    organisation: Organisation | None = None
    person: Person | None = None  # the registered person matched; None: a new person
    errors: list[LineError] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.raw["name"]

    @property
    def is_new_person(self) -> bool:
        return self.person is None

    def fail(self, code: str, message: str) -> None:
        self.errors.append(LineError(self.line, code, message))


@dataclass
class ImportPreview:
    """What importing the file would do. ``text`` is the decoded CSV the commit form
    carries; ``encoding`` is "utf-8" or "cp932", or None when the file could not be read."""

    text: str
    encoding: str | None
    rows: list[ImportRow] = field(default_factory=list)
    file_errors: list[LineError] = field(default_factory=list)

    @property
    def errors(self) -> list[LineError]:
        """Every error, those about the file as a whole first, then line by line."""
        return [*self.file_errors, *(error for row in self.rows for error in row.errors)]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.errors

    @property
    def new_people(self) -> int:
        return sum(1 for row in self.rows if row.is_new_person)

    def reject(self, code: str, message: str, line: int | None = None) -> None:
        """Add an error about the file as a whole (the view uses it for transport limits)."""
        self.file_errors.append(LineError(line, code, message))


class InvalidImport(DomainError):
    """The commit found errors; ``preview`` lists them. Nothing was written."""

    def __init__(self, preview: ImportPreview):
        super().__init__(_l("The file has errors. Nothing has been imported."))
        self.preview = preview


# -- Public API --------------------------------------------------------------------------


def parse(db: Session, body: Body, data: bytes) -> ImportPreview:
    """Decode an uploaded file and check every line; writes nothing."""
    decoded = decode(data)
    if decoded is None:
        preview = ImportPreview(text="", encoding=None)
        preview.reject(
            "encoding",
            _l(
                "The file could not be read as UTF-8 or Shift_JIS (CP932) text. Save it from "
                "the spreadsheet as CSV and try again."
            ),
        )
        return preview
    text, encoding = decoded
    return parse_text(db, body, text, encoding=encoding)


def parse_text(db: Session, body: Body, text: str, *, encoding: str = "utf-8") -> ImportPreview:
    """Check already decoded CSV text; writes nothing."""
    preview = ImportPreview(text=text, encoding=encoding)
    records = _read_records(text.removeprefix("\ufeff"), preview)
    if not records:
        if not preview.file_errors:
            preview.reject("empty", _l("The file is empty."))
        return preview
    keys = _read_headings(records[0][1], preview)
    if preview.file_errors:
        return preview  # without known columns the lines cannot be read
    data = [(line, cells) for line, cells in records[1:] if any(c.strip() for c in cells)]
    if not data:
        preview.reject("no_rows", _l("The file has no lines to import below the heading."))
    elif len(data) > MAX_ROWS:
        preview.reject(
            "too_many_rows",
            _l(
                "The file has %(count)d lines of members; at most %(max)d can be imported at "
                "once. Split the file and import each part.",
                count=len(data),
                max=MAX_ROWS,
            ),
        )
    else:
        preview.rows = [_read_row(line, keys, cells) for line, cells in data]
        _check_against_register(db, body, preview.rows)
    return preview


def commit(db: Session, body: Body, text: str, *, by: Person) -> list[Membership]:
    """Check ``text`` again from scratch and, if all is well, add every line to the body.

    Returns the terms added. Flushes only; the caller commits. Raises
    InvalidImport (a DomainError) when anything is wrong, having written nothing.
    """
    if not policy.can_change_members(db, by, body):
        raise Forbidden(_l("Only the secretariat of this body may change its members."))
    preview = parse_text(db, body, text)
    if not preview.ok:
        raise InvalidImport(preview)
    # parse_text has just checked, in this transaction, every rule that create_person and
    # add_membership would check (the overlap through memberships.validate). Building the
    # rows directly lets one flush insert them in batches instead of several queries a line.
    added = []
    for row in preview.rows:
        if row.person is None:
            row.person = _new_person(row)
            db.add(row.person)
        membership = Membership(
            body_id=body.id,
            person=row.person,
            role=row.role,
            organisation=row.organisation,
            term_start=row.term_start,
            term_end=row.term_end,
        )
        db.add(membership)
        added.append(membership)
    db.flush()
    notices.body_changed(db, body.id)
    audit.record(
        db,
        by,
        audit.CONTENT,
        "membership_added",
        subject_type="body",
        subject_id=body.id,
        body_id=body.id,
        detail=f"CSV import: {len(added)}",
    )
    return added


def decode(data: bytes) -> tuple[str, str] | None:
    """(text, encoding) trying UTF-8 first, then CP932; None when neither reads it."""
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        try:
            text, encoding = data.decode("cp932"), "cp932"
        except UnicodeDecodeError:
            return None
        if not _CP932_STRAYS.isdisjoint(text):
            return None
    if "\x00" in text:  # no text file holds NUL; a UTF-16 or binary file does
        return None
    return text, encoding


# -- Reading the CSV ---------------------------------------------------------------------


def _read_records(text: str, preview: ImportPreview) -> list[tuple[int, list[str]]]:
    """(line, cells) for every record. Lines are counted in records, as a spreadsheet
    numbers its rows, so a cell with a line break inside does not shift the numbers."""
    records = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for line, cells in enumerate(reader, start=1):
            records.append((line, cells))
    except csv.Error:
        preview.reject(
            "csv",
            _l('The CSV cannot be read from here on; check the quotation marks (").'),
            line=len(records) + 1,
        )
    return records


def _normalise(value: str) -> str:
    """Full-width letters and digits (ＡＢＣ, ２０２５) become plain ones; spaces go."""
    return unicodedata.normalize("NFKC", value).strip()


def _read_headings(cells: list[str], preview: ImportPreview) -> list[str | None]:
    """The column key of each heading, in file order (None for a heading that names no
    column). Reports unknown and repeated headings; empty headings at the end (spreadsheets
    leave them) are ignored."""
    while cells and not cells[-1].strip():
        cells = cells[:-1]
    keys: list[str | None] = []
    unknown: list[str] = []
    for position, cell in enumerate(cells, start=1):
        heading = _normalise(cell)
        key = _HEADING_KEYS.get(heading) or _HEADING_KEYS.get(heading.lower())
        if not heading:
            preview.reject("empty_heading", _l("Column %(n)d has no heading.", n=position), line=1)
        elif key is None:
            unknown.append(heading)
        elif key in keys:
            preview.reject(
                "duplicate_column",
                _l('The column "%(name)s" appears more than once.', name=heading),
                line=1,
            )
        keys.append(key)
    if unknown:
        preview.reject(
            "unknown_columns",
            _l(
                "Unknown columns: %(names)s. Use only the columns described on this page.",
                names=", ".join(f'"{name}"' for name in unknown),
            ),
            line=1,
        )
    if "name" not in keys:
        preview.reject("missing_name", _l('The column "氏名" (name) is required.'), line=1)
    return keys


def _read_row(line: int, keys: list[str | None], cells: list[str]) -> ImportRow:
    """Read one line on its own: everything that needs no database."""
    raw = dict.fromkeys(HEADINGS, "")
    # As the register will store them (renkei.textnorm): a line break in a quoted cell, or
    # a decomposed accent, must not make a known person look new.
    raw.update(
        (key, textnorm.one_line(cell))
        for key, cell in zip(keys, cells, strict=False)
        if key is not None  # (a file with such a heading is refused before its lines are read)
    )
    row = ImportRow(line=line, raw=raw)
    if any(cell.strip() for cell in cells[len(keys) :]):
        row.fail("extra_values", _l("This line has more values than the heading has columns."))
    _check_text(row)
    _check_email(row)
    _check_role(row)
    _check_terms(row)
    return row


def _check_text(row: ImportRow) -> None:
    labels = _column_labels()
    if not row.name:
        row.fail("name_missing", _l("The name is missing."))
    for key, value in row.raw.items():
        if "\n" in value or "\r" in value:
            row.fail("line_break", _l("%(column)s contains a line break.", column=labels[key]))
    for key, limit in MAX_LENGTHS.items():
        if len(row.raw[key]) > limit:
            row.fail(
                "too_long",
                _l(
                    "%(column)s is longer than %(max)d characters.",
                    column=labels[key],
                    max=limit,
                ),
            )


def _check_email(row: ImportRow) -> None:
    try:
        row.email = validate_email(row.raw["email"])
    except DomainError as error:
        row.fail("invalid_email", error.message)


def _check_role(row: ImportRow) -> None:
    row.role = parse_role(row.raw["role"])
    if row.role is None:
        row.fail(
            "unknown_role",
            _l(
                'Unknown role "%(value)s". Use one of: %(choices)s.',
                value=row.raw["role"],
                choices=ROLE_HINT,
            ),
        )


def parse_role(value: str) -> Role | None:
    """A Japanese role word or a role code; empty means a member; None when unknown."""
    word = _normalise(value)
    if not word:
        return Role.MEMBER
    if word in ROLE_WORDS:
        return ROLE_WORDS[word]
    try:
        return Role(word.lower())
    except ValueError:
        return None


def _check_terms(row: ImportRow) -> None:
    labels = _column_labels()
    for key in ("term_start", "term_end"):
        value = row.raw[key]
        if not value:
            continue
        parsed = parse_date(value)
        if parsed is None:
            row.fail(
                "invalid_date",
                _l(
                    '%(column)s: "%(value)s" is not a date. Write it as 2026-04-01 or 2026/04/01.',
                    column=labels[key],
                    value=value,
                ),
            )
        setattr(row, key, parsed)
    if not row.raw["term_start"]:
        row.term_start = today()
    if row.term_start and row.term_end and row.term_end < row.term_start:
        row.fail("term_order", _l("The term cannot end before it starts."))


def parse_date(value: str) -> date | None:
    """YYYY-MM-DD or YYYY/MM/DD (full-width digits too); None when it is not a real date."""
    match = _DATE.fullmatch(_normalise(value))
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[3]), int(match[4]))
    except ValueError:  # 2026-02-30
        return None


# -- Checking against the register ----------------------------------------------------------


@dataclass
class _Register:
    """What the file refers to, loaded in a handful of queries rather than one a line."""

    organisations: dict[str, Organisation]
    by_email: dict[str, Person]
    by_name: dict[str, list[Person]]
    with_terms: set[int]  # people with any term, past or present, on the body


def _load_register(db: Session, body: Body, rows: list[ImportRow]) -> _Register:
    # One IN list per query: at most MAX_ROWS values, well within SQLite's and PostgreSQL's
    # limits on bound parameters.
    org_names = {row.raw["organisation"] for row in rows if row.raw["organisation"]}
    emails = {row.email for row in rows if row.email}
    names = {row.name for row in rows if row.name and not row.email and not row.raw["email"]}
    register = _Register({}, {}, {}, set())
    if org_names:
        found = db.scalars(select(Organisation).where(Organisation.name.in_(org_names)))
        register.organisations = {org.name: org for org in found}
    if emails:
        # Lower-cased on both sides: the register stores e-mails normalised, but matching
        # must not depend on every old row having been.
        people = db.scalars(select(Person).where(func.lower(Person.email).in_(emails)))
        register.by_email = {p.email.lower(): p for p in people if p.email is not None}
    if names:
        for person in db.scalars(select(Person).where(Person.name.in_(names))):
            register.by_name.setdefault(person.name, []).append(person)
    register.with_terms = set(
        db.scalars(select(Membership.person_id).where(Membership.body_id == body.id).distinct())
    )
    return register


def _check_against_register(db: Session, body: Body, rows: list[ImportRow]) -> None:
    register = _load_register(db, body, rows)
    first_line_of: dict[
        tuple[str, str | int], int
    ] = {}  # who or which e-mail -> the line it was first on
    for row in rows:
        _match_organisation(row, register)
        _match_person(row, register)
        _check_repeats(row, first_line_of)
        _check_existing_terms(db, body, row, register)


def _match_organisation(row: ImportRow, register: _Register) -> None:
    name = row.raw["organisation"]
    if not name:
        return
    row.organisation = register.organisations.get(name)
    if row.organisation is None:
        row.fail(
            "unknown_organisation",
            _l('The organisation "%(name)s" is not registered.', name=name),
        )


def _match_person(row: ImportRow, register: _Register) -> None:
    """By e-mail when there is one; otherwise by name, but only when exactly one registered
    person has that name, so that a namesake is never picked by chance."""
    if row.email:
        row.person = register.by_email.get(row.email)
    elif not row.raw["email"]:
        namesakes = register.by_name.get(row.name, [])
        row.person = namesakes[0] if len(namesakes) == 1 else None


def _check_repeats(row: ImportRow, first_line_of: dict[tuple[str, str | int], int]) -> None:
    if row.email:
        earlier = first_line_of.setdefault(("email", row.email), row.line)
        if earlier != row.line:
            row.fail(
                "duplicate_email",
                _l(
                    "The e-mail address %(email)s is also on line %(line)d.",
                    email=row.email,
                    line=earlier,
                ),
            )
            return  # the same person, already reported
    who: tuple[str, str | int]
    if row.person is not None:
        who = ("person", row.person.id)
    elif not row.raw["email"] and row.name:
        who = ("new", row.name)
    else:
        return
    earlier = first_line_of.setdefault(who, row.line)
    if earlier != row.line:
        row.fail(
            "duplicate_person",
            _l("%(name)s is also on line %(line)d.", name=row.name, line=earlier),
        )


def _check_existing_terms(db: Session, body: Body, row: ImportRow, register: _Register) -> None:
    """The rules of memberships.validate (overlapping terms above all), asked only for
    people who already have a term on the body: nobody else can overlap."""
    if row.person is None or row.person.id not in register.with_terms:
        return
    # Terms already reported as unreadable or back to front would only be reported twice.
    if row.role is None or row.term_start is None:  # (no start: an invalid date, below)
        return
    if any(e.code in ("invalid_date", "term_order") for e in row.errors):
        return
    data = MembershipData(
        person_id=row.person.id,
        role=row.role.value,
        term_start=row.term_start,
        term_end=row.term_end,
        organisation_id=row.organisation.id if row.organisation else None,
    )
    try:
        validate(db, body, data)
    except DomainError as error:
        row.fail("term_conflict", error.message)


def _new_person(row: ImportRow) -> Person:
    return Person(
        name=row.name,
        kana=row.raw["kana"],
        email=row.email,
        phone=row.raw["phone"],
        organisation=row.organisation,
    )
