"""Search (services/search.py): Japanese that works, and only what the viewer may see."""

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy import text as sql

from renkei.models import AgendaItem, Person, SearchEntry, SearchKind, Visibility
from renkei.services import policy, search, search_dates, search_index, search_text
from renkei.services.errors import DomainError
from tests.helpers import body_named, person_by_email, statements_with
from tests.services.test_policy import joint_of, pledge
from tests.sessions_helpers import DAY, LAYER1, SUPPORT, make_session

SECRET = "家計改善ゼクロス"  # in the 支援会議's confidential item only
NONSENSE = "存在しない言葉ぬぬ"


def find(db, email, text, **query):
    person = person_by_email(db, email)
    return search.search(db, person, search.Query(text=text, **query))


def titles(results) -> list[str]:
    return [hit.entry.title for hit in results.hits]


@pytest.fixture(autouse=True)
def _japanese(ctx):
    """Messages in Japanese, as the interface gives them."""


@pytest.fixture
def items(world):
    """A session of the 協議体 with items whose words the tests look for, and one of the
    支援会議 whose confidential item holds SECRET; the demo secretary pledged."""
    session = make_session(world, LAYER1, SUPPORT)
    layer1, support = body_named(world, LAYER1), body_named(world, SUPPORT)
    for position, (body, title, visibility, text) in enumerate(
        [
            (layer1, "買い物支援の取組", Visibility.PUBLIC, "移動販売と介護予防の報告"),
            (layer1, "カイゴ予防教室", Visibility.PUBLIC, "ＡＢＣ体操を続ける"),
            (layer1, "保険介護の順", Visibility.PUBLIC, "語順の違う言葉"),
            (support, "個別ケース", Visibility.CONFIDENTIAL, f"{SECRET}の相談"),
        ]
    ):
        world.add(
            AgendaItem(
                session=session,
                body=body,
                position=position,
                title=title,
                description=text,
                visibility=visibility,
            )
        )
    world.commit()
    pledge(world, "secretary@example.jp", SUPPORT)
    return session


# --- Tokens ---------------------------------------------------------------------------------


def test_cjk_runs_become_overlapping_bigrams_and_latin_words_whole():
    assert search_text.tokens("介護保険") == search_text.tokens("介護 護保 保険")
    assert len(search_text.tokens("介護保険")) == 3
    assert search_text.tokens("CANARY-Title 7f3a") == ["canary", "title", "7f3a"]


def test_half_width_and_full_width_forms_are_one():
    assert search_text.tokens("ｶｲｺﾞ") == search_text.tokens("カイゴ")
    assert search_text.tokens("ＡＢＣ") == search_text.tokens("abc")
    assert search_text.tokens("かいご") != search_text.tokens("カイゴ")  # kana kept apart


def test_tokens_are_ascii_for_both_databases():
    assert all(token.isascii() and token.isalnum() for token in search_text.tokens("介護ＡＢＣ é"))


# --- Finding --------------------------------------------------------------------------------


def test_a_two_character_word_is_found_inside_longer_ones(world, items):
    found = find(world, "member.kyogitai@example.jp", "介護")
    assert "買い物支援の取組" in titles(found)  # 介護予防 in its description
    assert "保険介護の順" in titles(found)


def test_a_phrase_matches_its_characters_in_order_only(world, items):
    found = find(world, "member.kyogitai@example.jp", "介護予防")
    assert titles(found) == ["買い物支援の取組"]
    assert find(world, "member.kyogitai@example.jp", "予防介護").total == 0


def test_half_width_katakana_and_full_width_latin_find_their_other_forms(world, items):
    assert "カイゴ予防教室" in titles(find(world, "member.kyogitai@example.jp", "ｶｲｺﾞ"))
    assert "カイゴ予防教室" in titles(find(world, "member.kyogitai@example.jp", "abc"))


def test_every_term_must_match(world, items):
    assert titles(find(world, "member.kyogitai@example.jp", "買い物 介護")) == ["買い物支援の取組"]
    assert find(world, "member.kyogitai@example.jp", f"買い物 {NONSENSE}").total == 0


def test_the_terms_are_marked_in_the_title_and_the_snippet_escaped(world, items):
    hit = next(
        h
        for h in find(world, "member.kyogitai@example.jp", "買い物").hits
        if h.entry.kind is SearchKind.ITEM
    )
    assert str(hit.title) == "<mark>買い物</mark>支援の取組"
    assert search.marked("<b>買い物</b>", search_text.terms("買い物")) == (
        "&lt;b&gt;<mark>買い物</mark>&lt;/b&gt;"
    )


@pytest.mark.parametrize("query", ["介", "a", "介 護"])
def test_one_character_is_too_short(world, items, query):
    with pytest.raises(DomainError, match="2文字以上"):
        find(world, "secretary@example.jp", query)


def test_a_query_too_long_or_with_no_such_date_is_refused(world, items):
    with pytest.raises(DomainError):
        find(world, "secretary@example.jp", "介護" * 60)
    with pytest.raises(DomainError):
        find(world, "secretary@example.jp", "2026-02-30")


# --- Dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "first", "last"),
    [
        ("令和8年5月", date(2026, 5, 1), date(2026, 5, 31)),
        ("令和8年5月12日", date(2026, 5, 12), date(2026, 5, 12)),
        ("R8.5", date(2026, 5, 1), date(2026, 5, 31)),
        ("2026-05", date(2026, 5, 1), date(2026, 5, 31)),
        ("２０２６／５／１２", date(2026, 5, 12), date(2026, 5, 12)),
        ("2026年5月", date(2026, 5, 1), date(2026, 5, 31)),
        ("令和8年度", date(2026, 4, 1), date(2027, 3, 31)),
        ("令和元年", date(2019, 1, 1), date(2019, 12, 31)),
    ],
)
def test_dates_typed_become_ranges(typed, first, last):
    rest, days = search_dates.extract(f"介護 {typed}")
    assert rest == "介護"
    assert days is not None and (days.first, days.last) == (first, last)


def test_a_date_in_the_query_limits_the_results_to_it(world, items):
    typed = f"{DAY.year}-{DAY.month:02d}"
    assert "買い物支援の取組" in titles(
        find(world, "member.kyogitai@example.jp", f"買い物 {typed}")
    )
    other = f"{DAY.year - 3}-{DAY.month:02d}"
    assert find(world, "member.kyogitai@example.jp", f"買い物 {other}").total == 0


# --- Filters, order and pages ----------------------------------------------------------------


def test_filters_by_kind_body_and_fiscal_year(world, items):
    found = find(world, "member.kyogitai@example.jp", "介護", kind=SearchKind.ITEM)
    assert {h.entry.kind for h in found.hits} == {SearchKind.ITEM}
    layer1 = body_named(world, LAYER1)
    found = find(world, "member.kyogitai@example.jp", "介護", body_id=layer1.id)
    assert found.total >= 2 and {h.entry.body_id for h in found.hits} == {layer1.id}
    fy = DAY.year if DAY.month >= 4 else DAY.year - 1
    assert find(world, "member.kyogitai@example.jp", "買い物", fiscal_year=fy).total >= 1
    assert find(world, "member.kyogitai@example.jp", "買い物", fiscal_year=fy - 3).total == 0


def test_the_counts_offered_agree_with_what_each_filter_finds(world, items):
    """Each kind's count is what choosing that kind finds, and each body's count (under a
    chosen kind too) what choosing that body finds: the filters never promise more."""
    world.add(
        AgendaItem(
            session=items,
            body=body_named(world, SUPPORT),
            position=9,
            title="介護の相談窓口",
            visibility=Visibility.PUBLIC,
        )
    )
    world.commit()
    who = "secretary@example.jp"
    everything = find(world, who, "介護")
    assert len(everything.bodies) == 2 and everything.kinds
    assert everything.total == sum(n for _, n in everything.kinds)
    for kind, n in everything.kinds:
        narrowed = find(world, who, "介護", kind=kind)
        assert narrowed.total == n
        for body, m in narrowed.bodies:
            assert find(world, who, "介護", kind=kind, body_id=body.id).total == m
    for body, n in everything.bodies:
        by_body = find(world, who, "介護", body_id=body.id)
        assert by_body.total == n
        assert sum(m for _, m in by_body.kinds) == n


def test_results_are_paged(world, items, monkeypatch):
    monkeypatch.setattr(search, "PER_PAGE", 1)
    first = find(world, "member.kyogitai@example.jp", "介護", sort=search.Sort.DATE)
    second = find(world, "member.kyogitai@example.jp", "介護", sort=search.Sort.DATE, page=2)
    assert first.pages == first.total >= 2
    assert titles(first) != titles(second)
    beyond = find(world, "member.kyogitai@example.jp", "介護", page=999)
    assert beyond.page == beyond.pages


def _add_items(world, session, body, *rows: tuple[str, str]) -> None:
    """Public items of ``body`` in ``session``, written in the order given."""
    start = len(session.items)
    for offset, (title, text) in enumerate(rows):
        world.add(
            AgendaItem(
                session=session,
                body=body,
                position=start + offset,
                title=title,
                description=text,
                visibility=Visibility.PUBLIC,
            )
        )
        world.commit()


def test_beyond_the_cap_the_latest_written_are_read_and_the_page_says_so(world, items, monkeypatch):
    who = "member.kyogitai@example.jp"
    _add_items(world, items, body_named(world, LAYER1), ("介護の集い", ""), ("介護の講座", ""))
    everything = find(world, who, "介護")
    assert everything.total == 4 and not everything.capped and everything.counted
    monkeypatch.setattr(search, "CAP", 2)
    capped = find(world, who, "介護")
    assert (capped.total, capped.pages, capped.capped, capped.counted) == (2, 1, True, False)
    assert sorted(titles(capped)) == ["介護の講座", "介護の集い"]
    assert capped.kinds == [(SearchKind.ITEM, 2)]


def test_a_filter_beyond_the_cap_searches_all_the_matches_again(world, items, monkeypatch):
    """The 協議体's items were written before the 支援会議's: with the 支援会議's read first
    and the cap reached, choosing the 協議体 still finds its items, all of them."""
    who = "secretary@example.jp"
    layer1, support = body_named(world, LAYER1), body_named(world, SUPPORT)
    _add_items(world, items, support, *[(f"介護の相談{n}", "") for n in range(3)])
    whole = find(world, who, "介護", body_id=layer1.id)
    assert whole.total >= 2
    monkeypatch.setattr(search, "CAP", 2)
    assert find(world, who, "介護").capped
    narrowed = find(world, who, "介護", body_id=layer1.id)
    assert not narrowed.capped and narrowed.total == whole.total
    assert {h.entry.body_id for h in narrowed.hits} == {layer1.id}
    assert layer1 in [body for body, _ in narrowed.bodies]
    assert titles(find(world, who, "保険介護", body_id=layer1.id)) == ["保険介護の順"]


def test_sqlite_reads_the_latest_matches_in_the_index_order(world, items):
    """The cap is what makes a common word quick: FTS5 hands over its matches newest first
    and the query stops at the cap, with no sort of every match before the first row (by
    date, the query is that alone; by relevance, it is the subquery whose rows are ranked)."""
    if world.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite's FTS5 plan")
    with statements_with(world.get_bind(), "MATCH") as seen:
        find(world, "member.kyogitai@example.jp", "介護", sort=search.Sort.DATE)
    statement, parameters = seen[0]
    plan = world.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
    steps = [row[3] for row in plan]
    assert steps[0].startswith("SCAN search_fts VIRTUAL TABLE")
    assert not any("TEMP B-TREE" in step for step in steps)


def test_the_most_relevant_come_first(world, items):
    """A term in the title, or said often, comes before a term said once in passing in a
    long text; written later or not, on both databases alike."""
    layer1 = body_named(world, LAYER1)
    _add_items(
        world,
        items,
        layer1,
        ("報告", "認知症サポーター養成講座の報告と、" + "地域の見守りについて。" * 40),
        ("認知症カフェ", "月に一度の集い"),
        ("意見交換", "認知症の方の認知機能と認知症カフェ、認知症の家族会"),
    )
    found = titles(find(world, "member.kyogitai@example.jp", "認知症"))
    assert found == ["認知症カフェ", "意見交換", "報告"]
    by_date = titles(find(world, "member.kyogitai@example.jp", "認知症", sort=search.Sort.DATE))
    assert by_date == ["意見交換", "認知症カフェ", "報告"]  # the same day: the latest written


def test_relevance_counts_occurrences_weighs_the_title_and_the_length():
    term = search_text.terms("介護")
    once = search_text.relevance("", "介護", term)
    assert search_text.relevance("", "介護と介護", term) > once
    assert search_text.relevance("介護", "", term) > search_text.relevance("", "介護", term)
    assert search_text.relevance("", "介護" + "あ" * 2000, term) < once
    # The length is the text's read: what lies past RANK_CHARS neither counts nor weighs.
    long = "介護" + "あ" * search_text.RANK_CHARS
    assert search_text.relevance("", long, term) == search_text.relevance("", long * 5, term)
    # Half-width forms count as their full-width ones; past RANK_CHARS nothing is counted.
    assert search_text.relevance("", "ｶｲｺﾞ", search_text.terms("カイゴ")) > 0
    late = "あ" * search_text.RANK_CHARS + "介護"
    assert search_text.relevance("", late, term) == 0


@pytest.mark.parametrize(
    ("text", "typed", "marked"),
    [
        ("ｶｲｺﾞ予防教室", "カイゴ", "<mark>ｶｲｺﾞ</mark>予防教室"),
        ("ｹｱﾌﾟﾗﾝの作成", "ケアプラン", "<mark>ｹｱﾌﾟﾗﾝ</mark>の作成"),
        ("介護ＡＢＣ体操", "abc", "介護<mark>ＡＢＣ</mark>体操"),
        ("介護予防と介護", "介護", "<mark>介護</mark>予防と<mark>介護</mark>"),
    ],
)
def test_the_marks_cover_the_characters_typed_in_any_form(text, typed, marked):
    """A voiced mark typed apart (half-width ﾞ) belongs to its character, as NFKC reads it."""
    assert str(search.marked(text, search_text.terms(typed))) == marked


# --- Only what the viewer may see ----------------------------------------------------------


def test_a_confidential_item_is_found_by_the_pledged_only(world, items):
    assert "個別ケース" in titles(find(world, "secretary@example.jp", SECRET))
    for email in ("member.kyogitai@example.jp", "member.both@example.jp", "admin@example.jp"):
        assert find(world, email, SECRET).total == 0


def test_counts_for_a_closed_word_equal_a_nonsense_word(world, items):
    for email in ("member.kyogitai@example.jp", "member.both@example.jp", "admin@example.jp"):
        closed, nonsense = find(world, email, SECRET), find(world, email, NONSENSE)
        assert (closed.total, closed.kinds, closed.bodies, closed.pages) == (
            nonsense.total,
            nonsense.kinds,
            nonsense.bodies,
            nonsense.pages,
        )


def test_a_pledge_and_a_visibility_change_are_followed_without_reindexing(world, items):
    assert find(world, "chair.support@example.jp", SECRET).total == 0
    pledge(world, "chair.support@example.jp", SUPPORT)
    assert find(world, "chair.support@example.jp", SECRET).total == 1
    item = next(i for i in items.items if i.title == "個別ケース")
    item.visibility = Visibility.PUBLIC
    world.commit()
    assert find(world, "member.kyogitai@example.jp", SECRET).total == 1


def test_the_index_follows_edits_and_deletions(world, items):
    item = next(i for i in items.items if i.title == "買い物支援の取組")
    item.title = "移動スーパーの取組"
    world.commit()
    assert "移動スーパーの取組" in titles(find(world, "member.kyogitai@example.jp", "スーパー"))
    world.delete(item)
    world.commit()
    assert find(world, "member.kyogitai@example.jp", "スーパー").total == 0


def test_rebuild_writes_the_same_entries(world, items):
    def rows():
        return sorted(
            (e.kind, e.object_id, e.visibility, e.body_id, e.tokens)
            for e in world.scalars(select(SearchEntry))
        )

    kept = rows()
    search_index.rebuild(world)
    world.commit()
    assert rows() == kept


def test_rebuild_writes_the_latest_sessions_last(world):
    """After a rebuild the latest written entries (what a search beyond the cap reads) are
    the latest sessions', whatever order the sessions were made in."""
    later = make_session(world, LAYER1, title="後の回", day=DAY.replace(year=DAY.year + 1))
    earlier = make_session(world, LAYER1, title="先の回", day=DAY.replace(year=DAY.year - 1))
    search_index.rebuild(world)
    world.commit()

    def written(session) -> int:
        return world.scalar(
            select(SearchEntry.id).where(
                SearchEntry.kind == SearchKind.SESSION, SearchEntry.object_id == session.id
            )
        )

    assert written(later) > written(earlier)


@pytest.mark.parametrize("bodies", [(SUPPORT, LAYER1), (LAYER1,), (SUPPORT,)])
def test_the_search_condition_is_the_session_pages_rule(world, bodies):
    """For every person of the town and every item of a joint session (one of each
    visibility per body), the search finds exactly the items the session page shows."""
    session = joint_of(world, *bodies)
    pledge(world, "secretary@example.jp", SUPPORT)
    pledge(world, "member.both@example.jp", LAYER1)
    search_index.catch_up(world)
    for person in world.scalars(select(Person)):
        access = policy.session_access(world, person, session)
        expected = {i.id for i in session.items if access.can_view and access.can_see_item(i)}
        found = set(
            world.scalars(
                select(SearchEntry.object_id).where(
                    SearchEntry.kind == SearchKind.ITEM,
                    SearchEntry.session_id == session.id,
                    policy.search_reach(world, person)[0],
                )
            )
        )
        assert found == expected, person.email


def _phrase_in(tokens: list[str], phrase: tuple[str, ...]) -> bool:
    return any(
        tuple(tokens[i : i + len(phrase)]) == phrase for i in range(len(tokens) - len(phrase) + 1)
    )


@pytest.mark.parametrize(
    "query", ["介護", "介護予防", "予防介護", "買い物 介護", "ｶｲｺﾞ", "ＡＢＣ", "支援", "会議 みどり"]
)
def test_the_database_matches_as_the_tokens_say(world, items, query, monkeypatch):
    """The database (SQLite's FTS5, or PostgreSQL's tsvector when the tests run there) finds
    exactly the entries whose tokens hold every term as a phrase: the same on both."""
    monkeypatch.setattr(search, "PER_PAGE", 1000)
    secretary = person_by_email(world, "secretary@example.jp")
    terms = search_text.terms(query)
    seen = world.scalars(select(SearchEntry).where(policy.search_reach(world, secretary)[0])).all()
    expected = {
        (e.kind, e.object_id)
        for e in seen
        if all(_phrase_in(e.tokens.split(), term.tokens) for term in terms)
    }
    found = search.search(world, secretary, search.Query(text=query))
    assert {(h.entry.kind, h.entry.object_id) for h in found.hits} == expected
    assert found.total == len(expected)


def test_the_rebuild_command_writes_the_index_again(app, world, items):
    from sqlalchemy import delete

    world.execute(delete(SearchEntry))
    world.commit()
    assert find(world, "member.kyogitai@example.jp", "買い物").total == 0
    result = app.test_cli_runner().invoke(args=["search-rebuild"])
    assert result.exit_code == 0 and "entries" in result.output
    world.expire_all()
    assert "買い物支援の取組" in titles(find(world, "member.kyogitai@example.jp", "買い物"))


def test_migrate_writes_an_empty_index_of_a_database_with_data(app, world, items):
    """Migration 0028 empties the index (its entries had no scope): `flask migrate` then
    writes it, so that an upgraded town finds what it found before."""
    from sqlalchemy import delete

    world.execute(delete(SearchEntry))
    world.commit()
    result = app.test_cli_runner().invoke(args=["migrate"])
    assert result.exit_code == 0, result.output
    assert "search index written" in result.output
    world.expire_all()
    assert "買い物支援の取組" in titles(find(world, "member.kyogitai@example.jp", "買い物"))
    again = app.test_cli_runner().invoke(args=["migrate"])
    assert "search index written" not in again.output


def test_a_selection_in_another_session_hides_nothing_in_this_one(world):
    """選定招集 decides for its own session only: a body convened with selected members in
    one session still convenes all its members in the next, and an attendees' item there is
    found by a member who was not selected before (the condition once read the selection
    of any session of the body)."""
    from renkei.models import SelectedMember, Selection

    layer1 = body_named(world, LAYER1)
    secretary = person_by_email(world, "secretary@example.jp")
    chosen = make_session(world, LAYER1, title="選定招集の会")
    world.add(Selection(session=chosen, body=layer1, members=[SelectedMember(person=secretary)]))
    open_to_all = make_session(world, LAYER1, title="全員招集の会")
    world.add(
        AgendaItem(
            session=open_to_all,
            body=layer1,
            position=1,
            title="会場下見の段取り",
            visibility=Visibility.SESSION,
        )
    )
    world.commit()
    assert "会場下見の段取り" in titles(find(world, "member.kyogitai@example.jp", "会場下見"))


def test_postgres_reads_the_latest_windows_first_and_every_window_when_they_hold_too_few(
    world, items, monkeypatch
):
    """PostgreSQL (``search.WINDOW_BITS``): a search asks the terms index for the latest
    windows of ids first, and for every window only when those hold CAP or fewer matches;
    either way it finds what asking every window finds. Windows of two ids here: the
    index's function is remade with them in the test's transaction, rolled back after."""
    if world.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's terms index")
    layer1 = body_named(world, LAYER1)
    # 予防 (the fixture's items) lies beyond the latest four ids, 窓辺 within them
    _add_items(world, items, layer1, *[(f"埋め草{n}", "") for n in range(4)])
    _add_items(world, items, layer1, *[(f"窓辺の報告{n}", "") for n in range(3)])
    definition = world.scalar(sql("SELECT pg_get_functiondef('renkei_search_terms'::regproc)"))
    shift = f"(id >> {search.WINDOW_BITS})"  # the index's windows are the search's
    assert shift in definition
    world.execute(sql(definition.replace(shift, "(id >> 1)")))
    world.execute(sql("REINDEX INDEX ix_search_entries_terms"))
    monkeypatch.setattr(search, "WINDOW_BITS", 1)
    monkeypatch.setattr(search, "CAP", 1)

    def searched(word: str, windows: int) -> tuple[list[int], bool, int]:
        monkeypatch.setattr(search, "FIRST_WINDOWS", windows)
        with statements_with(world.get_bind(), "renkei_search_terms") as seen:
            found = find(world, "member.kyogitai@example.jp", word, sort=search.Sort.DATE)
        return [hit.entry.id for hit in found.hits], found.capped, len(seen)

    try:
        for word, statements in (("窓辺", 1), ("予防", 2)):
            everywhere = searched(word, 10**6)
            assert everywhere[1] and everywhere[2] == 1  # two matches or more, the cap of one
            assert searched(word, 2) == (everywhere[0], True, statements)
    finally:
        world.rollback()
