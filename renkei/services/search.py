"""Search (検索): what a viewer may find, counted, faceted, ranked and paged.

The policy's condition (``policy.search_reach``) is part of every query here: the count,
the facets, the ranking, the page and the snippets are made from the entries the viewer may
see and from nothing else, so a closed item's existence shows in no number. Matching is on
the token string of ``search_text`` (SQLite: the FTS5 table ``search_fts``; PostgreSQL: the
reach index of migration 0029 and the ``tsv`` column), the same tokens on both databases,
together with the viewer's scope tokens (also ``policy.search_reach``'s): the time a search
takes grows with what the viewer could see, not with matches in closed content.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import (
    ColumnElement,
    FromClause,
    String,
    Text,
    cast,
    column,
    func,
    literal_column,
    select,
    table,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, defer

from renkei.i18n import gettext as _
from renkei.models import Body, MeetingSession, Person, SearchEntry, SearchKind
from renkei.services import policy, search_dates, search_index, search_text
from renkei.services.errors import DomainError

PER_PAGE = 20
SNIPPET = 60  # characters shown each side of the first match
# The most entries one search reads, the latest written first: a common word (介護 in ten
# years of a city's minutes) matches tens of thousands, and reading, ranking and counting
# them all made a city's search 3 to 12 times slower than reading 500, more than anyone
# pages through (bench/RESULTS.md). Beyond it the page says so and asks for another word,
# a year or a filter, which search all the matches again.
CAP = 500

_FTS = table("search_fts", column("rowid"), column("tokens"))
# PostgreSQL's terms index (migration 0033) holds each entry's window of ids: ``@w`` and the
# id's bits above the lowest WINDOW_BITS. A search asks first for the latest FIRST_WINDOWS
# windows, and for all only when they hold CAP or fewer of its matches: GIN finds every
# match before any is ordered, and each match's page is read to sort them (a city's
# 買い物支援, 20,578 matches: 120 ms, 15 ms within the latest windows).
WINDOW_BITS = 16
FIRST_WINDOWS = 4
_TERMS = ARRAY(Text)


class Sort(StrEnum):
    RELEVANCE = "relevance"
    DATE = "date"


@dataclass(frozen=True)
class Query:
    text: str = ""
    body_id: int | None = None
    kind: SearchKind | None = None
    fiscal_year: int | None = None
    sort: Sort = Sort.RELEVANCE
    page: int = 1


@dataclass
class Hit:
    entry: SearchEntry
    title: Markup
    snippet: Markup
    session: MeetingSession | None
    body: Body | None

    @property
    def in_session(self) -> bool:
        """A thing of a session (an item, a section, a material): the page names it."""
        return self.session is not None and self.entry.kind is not SearchKind.SESSION


@dataclass
class Results:
    query: Query
    total: int = 0
    page: int = 1
    pages: int = 0
    hits: list[Hit] = field(default_factory=list)
    kinds: list[tuple[SearchKind, int]] = field(default_factory=list)
    bodies: list[tuple[Body, int]] = field(default_factory=list)
    days: search_dates.DayRange | None = None
    capped: bool = False  # more than CAP matched: ``total`` is CAP, the latest written
    counted: bool = True  # the facets' counts are whole (false when more than CAP matched)


def check(query: Query) -> tuple[list[search_text.Term], search_dates.DayRange | None]:
    """The query's terms and date range; a clear error for one too short, too long, with
    a date that does not exist, or with nothing to search for."""
    if len(query.text) > search_text.MAX_QUERY:
        raise DomainError(
            _("Search for %(count)s characters or fewer.", count=search_text.MAX_QUERY), "q"
        )
    try:
        rest, days = search_dates.extract(query.text)
    except search_dates.BadDate as error:
        raise DomainError(_("There is no such date: %(date)s", date=str(error)), "q") from error
    if search_text.too_short(rest):
        raise DomainError(_("Search for two or more characters."), "q")
    terms = search_text.terms(rest)
    if not terms and days is None:
        raise DomainError(_("Type a word or a date to search for."), "q")
    return terms, days


def search(db: Session, person: Person, query: Query) -> Results:
    """The page of results ``query`` asks for, of what ``person`` may see. Raises
    ``DomainError`` for a query that cannot be searched (``check``)."""
    terms, days = check(query)
    search_index.catch_up(db)
    results = Results(query=query, days=days)
    # The match holds the viewer's scope tokens and the date's tokens, so the database
    # reads only entries the viewer could possibly see; the policy's condition then decides,
    # before anything is counted.
    condition, scope = policy.search_reach(db, person)
    scopes, conditions = [scope], [condition]
    if days is not None:
        scopes.append(search_dates.range_tokens(days))
        conditions.append(SearchEntry.day.between(days.first, days.last))
    if query.fiscal_year is not None:
        first, last = search_dates.fiscal_year_range(query.fiscal_year)
        scopes.append(search_dates.range_tokens(search_dates.DayRange(first, last, "")))
        conditions.append(SearchEntry.day.between(first, last))
    sources = _match(db, terms, scopes)
    ranked = query.sort is Sort.RELEVANCE and bool(terms)
    rows = _matching(db, sources, conditions, ranked=ranked)
    chosen = [row for row in rows if _chosen(query, row)]
    filters = _filters(query)
    results.counted = len(rows) <= CAP
    if not results.counted and filters:  # the filter's matches may lie beyond those read
        chosen = _matching(db, sources, conditions + filters, ranked=ranked)
    # Uncounted, the facets offer what was read, and what the filters chose.
    offered = rows if results.counted else {r.id: r for r in rows[:CAP] + chosen[:CAP]}.values()
    _facets(db, results, list(offered))
    results.capped = len(chosen) > CAP
    chosen = _ordered(chosen[:CAP], terms if ranked else [])
    results.total = len(chosen)
    results.pages = max(1, -(-results.total // PER_PAGE))
    results.page = min(max(query.page, 1), results.pages)
    ids = [row.id for row in chosen[(results.page - 1) * PER_PAGE :][:PER_PAGE]]
    # Not their tokens and scope (a long material's tokens are several times its text).
    page = select(SearchEntry).where(SearchEntry.id.in_(ids))
    page = page.options(defer(SearchEntry.tokens), defer(SearchEntry.scope))
    found = {e.id: e for e in db.scalars(page)}
    results.hits = _hits(db, [found[i] for i in ids], terms)
    return results


@dataclass(frozen=True)
class _Row:
    """What the counts, the facets and the order need of a matching entry."""

    id: int
    kind: str  # SearchKind's value
    body_id: int | None
    day: str | None  # ISO, as the database writes it
    # Only when ranked by relevance: the title and the text's beginning.
    title: str = ""
    text: str = ""


def _chosen(query: Query, row: _Row) -> bool:
    """The row passes the query's filters (``_filters``, read in Python)."""
    return (query.kind is None or row.kind == query.kind.value) and (
        query.body_id is None or row.body_id == query.body_id
    )


def _filters(query: Query) -> list[ColumnElement[bool]]:
    """The query's filters as SQL conditions (``_chosen``)."""
    found = []
    if query.kind is not None:
        found.append(SearchEntry.kind == query.kind)
    if query.body_id is not None:
        found.append(SearchEntry.body_id == query.body_id)
    return found


def _ordered(rows: list[_Row], terms: list[search_text.Term]) -> list[_Row]:
    """Most relevant to ``terms`` first (none: by date), then newest, undated last, then
    the latest written: stable sorts, least significant first. The relevance is reckoned
    here, the same on both databases, from the entries' own text."""
    rows = sorted(rows, key=lambda row: row.id, reverse=True)
    rows.sort(key=lambda row: (row.day is not None, row.day or ""), reverse=True)
    if terms:
        score = {row.id: search_text.relevance(row.title, row.text, terms) for row in rows}
        rows.sort(key=lambda row: score[row.id], reverse=True)
    return rows


@dataclass(frozen=True)
class _Source:
    """Where a search reads its matches: the FROM, the condition that an entry matches
    every term (each a phrase of its tokens) and a token of each scope, the order of the
    latest written first."""

    read: FromClause
    matched: ColumnElement[bool]
    newest_first: ColumnElement[Any]


def _matching(
    db: Session, sources: list[_Source], conditions: list[ColumnElement[bool]], *, ranked: bool
) -> list[_Row]:
    """The entries the viewer may see that match, the latest written first, CAP and one
    more (to tell that there are more), in one query a source, the sources read in turn
    until one finds more than CAP (each finds the latest of the one after it): the counts,
    the facets and the page are made from these rows."""
    rows: list[_Row] = []
    for source in sources:
        rows = _matching_in(db, source, conditions, ranked=ranked)
        if len(rows) > CAP:
            break
    return rows


def _matching_in(
    db: Session, source: _Source, conditions: list[ColumnElement[bool]], *, ranked: bool
) -> list[_Row]:
    entries = SearchEntry.__table__.c
    # Plain values (the kind's and the day's text): converting them to enums and dates
    # cost more than the match.
    found = (
        select(
            entries.id,
            literal_column("search_entries.kind").label("kind"),
            entries.body_id,
            cast(entries.day, String).label("day"),
        )
        .select_from(source.read)
        .where(*conditions, source.matched)
        .order_by(source.newest_first)
        .limit(CAP + 1)
    )
    if ranked:
        # The text only of the entries read: PostgreSQL computes what a query selects
        # before it sorts and limits, and read every match's text (100 of 190 ms for 介護).
        capped = found.subquery()
        entry = SearchEntry.__table__.alias("entry")
        text = entry.c.text
        found = (
            select(
                *capped.c,
                entry.c.title,
                func.substr(text, 1, search_text.RANK_CHARS),
            )
            .join_from(capped, entry, entry.c.id == capped.c.id)
            .order_by(capped.c.id.desc())
        )
    return [_Row(*row) for row in db.execute(found)]


def _facets(db: Session, results: Results, rows: list[_Row]) -> None:
    """The kinds, counted with every filter but the kind; the bodies, with every filter
    but the body."""
    query = results.query
    by_kind: Counter[str] = Counter(
        row.kind for row in rows if query.body_id is None or row.body_id == query.body_id
    )
    by_body: Counter[int] = Counter(
        row.body_id
        for row in rows
        if row.body_id is not None and (query.kind is None or row.kind == query.kind.value)
    )
    results.kinds = [(k, by_kind[k.value]) for k in SearchKind if by_kind[k.value]]
    named = db.scalars(select(Body).where(Body.id.in_(by_body)).order_by(Body.name)).all()
    results.bodies = [(b, by_body[b.id]) for b in named]


def _match(db: Session, terms: list[search_text.Term], scopes: list[list[str]]) -> list[_Source]:
    """Where the matches are read, in turn (``_matching``). On SQLite the queries read the
    FTS5 result by its rowids (the entries' ids, the latest first), and look each entry up
    by its id: read the other way round, SQLite walked the whole table (or the day's index)
    and tested each entry against the result; ordered by anything else, it read every match
    before the first row. On PostgreSQL, the latest windows first (WINDOW_BITS)."""
    if db.get_bind().dialect.name == "postgresql":
        latest = (db.scalar(select(func.max(SearchEntry.id))) or 0) >> WINDOW_BITS
        everywhere = _postgres_match(terms, scopes)
        if latest < FIRST_WINDOWS:
            return [everywhere]
        windows = [f"w{w}" for w in range(latest, latest - FIRST_WINDOWS, -1)]
        return [_postgres_match(terms, [*scopes, windows]), everywhere]
    fts = (
        select(_FTS.c.rowid.label("id"))
        .where(literal_column("search_fts").op("MATCH")(search_text.fts5_match(terms, *scopes)))
        .subquery()
    )
    source = fts.join(SearchEntry.__table__, SearchEntry.id == fts.c.id)
    return [_Source(source, true(), fts.c.id.desc())]


def _postgres_match(terms: list[search_text.Term], scopes: list[list[str]]) -> _Source:
    """The terms index (migration 0033) finds the entries holding every token and a token
    of each scope, in a subquery of its own that sorts their ids the latest written first;
    the query around it looks each up in that order, tests it by the policy and for the
    phrases (``tsv``: its tokens' positions) and stops at the cap. Tested in the index's
    scan, they were tested on every entry found (20,577 for 買い物支援 in a city, 136 ms)
    before the first was kept."""
    entries = SearchEntry.__table__
    held = func.renkei_search_terms(entries.c.id, entries.c.tokens, entries.c.scope, type_=_TERMS)
    words, groups = search_text.reach_terms(terms, *scopes)
    asked = [held.contains(words)] if words else []
    asked += [held.overlap(group) for group in groups]
    # Ordered by an expression, not by the id itself: PostgreSQL would walk the primary
    # key backwards testing each entry, through every closed one (as slow for a word held
    # by none as its table is long), instead of reading the terms index.
    written = (entries.c.id + 0).label("written")
    found = (
        select(written)
        .where(*asked)
        .order_by(written.desc())
        .offset(0)  # a fence: the conditions outside are not tested in the index's scan
        .subquery("found")
    )
    matched: ColumnElement[bool] = true()
    if any(len(term.tokens) > 1 for term in terms):
        tsv: ColumnElement[Any] = literal_column("search_entries.tsv")
        matched = tsv.op("@@")(func.to_tsquery("simple", search_text.tsquery(terms)))
    read = found.join(entries, entries.c.id == found.c.written)
    return _Source(read, matched, found.c.written.desc())


def _hits(db: Session, entries: list[SearchEntry], terms: list[search_text.Term]) -> list[Hit]:
    """Titles and snippets with the terms marked; the sessions and bodies in two queries."""
    session_ids = {e.session_id for e in entries if e.session_id is not None}
    sessions = {
        s.id: s
        for s in db.scalars(select(MeetingSession).where(MeetingSession.id.in_(session_ids)))
    }
    body_ids = {e.body_id for e in entries if e.body_id is not None}
    bodies = {b.id: b for b in db.scalars(select(Body).where(Body.id.in_(body_ids)))}
    return [
        Hit(
            entry=entry,
            title=marked(entry.title, terms),
            snippet=snippet(entry.text, terms),
            session=sessions.get(entry.session_id) if entry.session_id else None,
            body=bodies.get(entry.body_id) if entry.body_id else None,
        )
        for entry in entries
    ]


def marked(text: str, terms: list[search_text.Term]) -> Markup:
    """``text`` escaped, with the terms in ``<mark>``."""
    out = Markup("")
    at = 0
    for start, end in search_text.spans(text, terms):
        out += escape(text[at:start]) + Markup("<mark>") + escape(text[start:end])
        out += Markup("</mark>")
        at = end
    return out + escape(text[at:])


def snippet(text: str, terms: list[search_text.Term]) -> Markup:
    """The part of ``text`` around the first match (or its beginning), marked."""
    text = " ".join(text.split())
    found = search_text.spans(text, terms)
    start = max(0, found[0][0] - SNIPPET) if found else 0
    end = min(len(text), start + 2 * SNIPPET + (found[0][1] - found[0][0] if found else 0))
    part = marked(text[start:end], terms)
    before = "…" if start > 0 else ""
    after = "…" if end < len(text) else ""
    return Markup(before) + part + Markup(after)


def fiscal_year_choices(today: date) -> list[int]:
    """The fiscal years a search may be limited to: from 2019 (令和元年度) to next year."""
    last = today.year if today.month >= 4 else today.year - 1
    return list(range(last + 1, 2018, -1))
