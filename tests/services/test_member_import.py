"""Member import from CSV: decoding, checking line by line, matching people, committing."""

from datetime import date

import pytest
from sqlalchemy import select

from renkei.models import Membership, Person, Role
from renkei.services import member_import
from renkei.services.dates import today
from renkei.services.errors import Forbidden
from renkei.services.member_import import InvalidImport
from tests.helpers import count, person_by_email

HEADER = "氏名,ふりがな,メールアドレス,電話番号,所属機関,役割,任期開始,任期終了"


@pytest.fixture(autouse=True)
def request_context(app, world):
    """Service errors carry translated messages, which need a request's locale; English, so
    that the assertions hold whatever the Japanese catalogue says."""
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        yield


def csv_text(*lines: str, header: str = HEADER) -> str:
    return "\n".join([header, *lines]) + "\n"


def errors_of(preview) -> list[tuple[int | None, str]]:
    return [(error.line, error.code) for error in preview.errors]


def totals(db) -> tuple[int, int]:
    return count(db, Person), count(db, Membership)


def term_of(db, body, email: str) -> Membership:
    return db.scalar(
        select(Membership)
        .join(Person)
        .where(Membership.body_id == body.id, Person.email == email)
        .order_by(Membership.id.desc())
    )


GOOD_LINES = (
    "山田 太郎,やまだ たろう,yamada@example.jp,0120-000-000,みどり町 社会福祉協議会,議長,"
    "2026/04/01,2028/03/31",
    "佐藤 花子,さとう はなこ,sato@example.jp,,,,2026-04-01,",
)


def test_a_valid_utf8_file_is_previewed_then_imported(db, kyogitai, secretary):
    data = csv_text(*GOOD_LINES).encode("utf-8")
    before = totals(db)

    preview = member_import.parse(db, kyogitai, data)

    assert preview.ok, errors_of(preview)
    assert preview.encoding == "utf-8"
    assert [row.line for row in preview.rows] == [2, 3]
    assert preview.new_people == 2
    assert totals(db) == before  # the preview writes nothing

    added = member_import.commit(db, kyogitai, preview.text, by=secretary)
    db.commit()

    assert len(added) == 2
    assert totals(db) == (before[0] + 2, before[1] + 2)
    yamada = term_of(db, kyogitai, "yamada@example.jp")
    assert yamada.role == Role.CHAIR
    assert yamada.organisation.name == "みどり町 社会福祉協議会"
    assert (yamada.term_start, yamada.term_end) == (date(2026, 4, 1), date(2028, 3, 31))
    assert yamada.person.kana == "やまだ たろう"
    assert yamada.person.phone == "0120-000-000"
    assert yamada.person.organisation.name == "みどり町 社会福祉協議会"
    sato = term_of(db, kyogitai, "sato@example.jp")
    assert sato.role == Role.MEMBER  # an empty role means a member
    assert sato.organisation is None and sato.term_end is None


def test_a_cp932_file_is_read_and_imported(db, kyogitai, secretary):
    data = csv_text(*GOOD_LINES).encode("cp932")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the test really is about the fallback

    preview = member_import.parse(db, kyogitai, data)

    assert preview.ok, errors_of(preview)
    assert preview.encoding == "cp932"
    assert preview.rows[0].name == "山田 太郎"
    assert len(member_import.commit(db, kyogitai, preview.text, by=secretary)) == 2
    assert term_of(db, kyogitai, "yamada@example.jp").person.name == "山田 太郎"


def test_a_utf8_file_with_a_bom_has_its_first_heading_recognised(db, kyogitai):
    data = csv_text(*GOOD_LINES).encode("utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")

    preview = member_import.parse(db, kyogitai, data)

    assert preview.ok, errors_of(preview)
    assert preview.rows[0].name == "山田 太郎"


def test_english_headings_in_any_order_and_crlf_lines(db, kyogitai, secretary):
    text = (
        "Role,Email,Name,term_start,Organisation\r\n"
        "vice_chair,Kimura@Example.jp,木村 一,2026/4/1,NPO法人 ささえあいみどり\r\n"
    )

    preview = member_import.parse(db, kyogitai, text.encode("utf-8"))

    assert preview.ok, errors_of(preview)
    row = preview.rows[0]
    assert (row.name, row.email, row.role) == ("木村 一", "kimura@example.jp", Role.VICE_CHAIR)
    assert row.term_start == date(2026, 4, 1)
    member_import.commit(db, kyogitai, preview.text, by=secretary)
    assert term_of(db, kyogitai, "kimura@example.jp").role == Role.VICE_CHAIR


def test_an_empty_start_means_today(db, kyogitai):
    preview = member_import.parse(db, kyogitai, csv_text("新人 一人,,,,,,,").encode())

    assert preview.ok, errors_of(preview)
    assert preview.rows[0].term_start == today()


def test_every_bad_line_is_reported_with_its_number_and_nothing_is_written(db, kyogitai, secretary):
    text = csv_text(
        "正しい 人,,ok@example.jp,,,,2026-04-01,",  # line 2: fine
        ",なまえなし,,,,,,",  # line 3: no name
        "不明 機関,,,,存在しない機関,,,",  # line 4: unknown organisation
        "",  # line 5: blank, skipped but counted
        "日付 誤り,,,,,,2026-13-01,",  # line 6: not a date
        "逆 任期,,,,,,2026-04-01,2026-03-31",  # line 7: ends before it starts
        "重複 メール,,OK@example.jp,,,,,",  # line 8: the e-mail of line 2
        "役割 不明,,,,,会計,,",  # line 9: unknown role
        "メール 誤り,,not-an-address,,,,,",  # line 10: invalid e-mail
        "長い 名前" + "あ" * 100 + ",,,,,,,",  # line 11: name too long
    )
    before = totals(db)

    preview = member_import.parse(db, kyogitai, text.encode())

    assert errors_of(preview) == [
        (3, "name_missing"),
        (4, "unknown_organisation"),
        (6, "invalid_date"),
        (7, "term_order"),
        (8, "duplicate_email"),
        (9, "unknown_role"),
        (10, "invalid_email"),
        (11, "too_long"),
    ]
    assert not preview.ok
    with pytest.raises(InvalidImport) as raised:
        member_import.commit(db, kyogitai, text, by=secretary)
    assert len(raised.value.preview.errors) == 8
    db.commit()
    assert totals(db) == before


def test_the_reasons_name_what_is_wrong(db, kyogitai):
    text = csv_text(
        "甲,,a@example.jp,,未登録の会,,2026/02/30,",
        "乙,,a@example.jp,,,,,",
    )

    preview = member_import.parse(db, kyogitai, text.encode())

    messages = {error.code: str(error.message) for error in preview.errors}
    assert "未登録の会" in messages["unknown_organisation"]
    assert "2026/02/30" in messages["invalid_date"]  # a real date is checked, not a pattern
    assert "line 2" in messages["duplicate_email"]


def test_a_term_overlapping_an_existing_term_on_the_body_is_an_error(db, kyogitai):
    # 兼務 三郎 has sat on the 協議体 since 2025-04-01 with no end.
    text = csv_text("兼務 三郎,,member.both@example.jp,,,構成員,2026-04-01,")

    preview = member_import.parse(db, kyogitai, text.encode())

    assert errors_of(preview) == [(2, "term_conflict")]
    assert "2025-04-01" in str(preview.errors[0].message)


def test_a_registered_person_is_matched_by_email_whatever_its_case(db, kyogitai, secretary):
    # 支援 一郎 sits on the support bodies, not on the 協議体.
    chair = person_by_email(db, "chair.support@example.jp")
    text = csv_text("支援 一郎,,Chair.Support@EXAMPLE.jp,,,オブザーバー,2026-04-01,")
    people_before = count(db, Person)

    preview = member_import.parse(db, kyogitai, text.encode())

    assert preview.ok, errors_of(preview)
    assert preview.rows[0].person.id == chair.id
    assert preview.new_people == 0
    member_import.commit(db, kyogitai, preview.text, by=secretary)
    assert count(db, Person) == people_before
    assert term_of(db, kyogitai, "chair.support@example.jp").role == Role.OBSERVER


def test_without_email_a_person_is_matched_only_by_a_unique_name(db, kyogitai, secretary):
    db.add(Person(name="北 町子", kana="きた まちこ"))  # now two people are called 北 町子
    db.flush()
    text = csv_text(
        "相談 愛,,,,,,2026-04-01,",  # one 相談 愛 is registered: matched
        "北 町子,,,,,,2026-04-01,",  # two are: a new person
        "誰も 知らない,,,,,,2026-04-01,",  # nobody has that name: a new person
    )

    preview = member_import.parse(db, kyogitai, text.encode())

    assert preview.ok, errors_of(preview)
    matched, ambiguous, unknown = preview.rows
    assert matched.person.name == "相談 愛"
    assert ambiguous.person is None and unknown.person is None
    assert preview.new_people == 2


def test_the_same_person_twice_in_the_file_is_an_error(db, kyogitai):
    text = csv_text(
        "支援 一郎,,chair.support@example.jp,,,,2026-04-01,2026-09-30",
        "相談 愛,,,,,,2026-04-01,",
        "相談 愛,,,,,,2026-10-01,",
        "新しい 人,,,,,,,",
        "新しい 人,,,,,,,",
    )

    preview = member_import.parse(db, kyogitai, text.encode())

    assert errors_of(preview) == [(4, "duplicate_person"), (6, "duplicate_person")]


def test_unknown_and_missing_columns_are_named(db, kyogitai):
    preview = member_import.parse(db, kyogitai, "ふりがな,備考,fax\nやまだ,メモ,03\n".encode())

    assert errors_of(preview) == [(1, "unknown_columns"), (1, "missing_name")]
    message = str(preview.errors[0].message)
    assert "備考" in message and "fax" in message
    assert preview.rows == []


def test_a_column_given_twice_is_an_error(db, kyogitai):
    preview = member_import.parse(db, kyogitai, "氏名,name\n山田,山田\n".encode())

    assert errors_of(preview) == [(1, "duplicate_column")]


def test_more_than_the_row_limit_is_refused_and_the_limit_itself_is_not(db, kyogitai):
    lines = [f"人 {n},,person{n}@example.jp,,,,," for n in range(member_import.MAX_ROWS + 1)]

    over = member_import.parse(db, kyogitai, csv_text(*lines).encode())
    at_limit = member_import.parse(db, kyogitai, csv_text(*lines[:-1]).encode())

    assert errors_of(over) == [(None, "too_many_rows")]
    assert str(member_import.MAX_ROWS) in str(over.errors[0].message)
    assert at_limit.ok, errors_of(at_limit)[:3]


@pytest.mark.parametrize(
    "data",
    [
        # UTF-16 with its BOM: not UTF-8; CP932 "reads" it, but into stray characters and NUL.
        b"\xff\xfe\x00garbage",
        "氏名\n山田\n".encode("utf-16"),
        # A Shift_JIS lead byte without a valid second byte: neither codec reads it.
        HEADER.encode("cp932") + b"\n\x81\x20abc\n",
    ],
)
def test_bytes_that_are_neither_utf8_nor_cp932_are_refused(db, kyogitai, data):
    preview = member_import.parse(db, kyogitai, data)

    assert errors_of(preview) == [(None, "encoding")]
    assert preview.encoding is None and preview.rows == []


def test_an_unclosed_quotation_mark_is_reported_at_its_line(db, kyogitai):
    text = csv_text("山田,,,,,,,", '"佐藤,,,,,,,')

    preview = member_import.parse(db, kyogitai, text.encode())

    assert errors_of(preview) == [(3, "csv")]


def test_an_empty_file_or_one_with_only_headings_is_an_error(db, kyogitai):
    assert errors_of(member_import.parse(db, kyogitai, b"")) == [(None, "empty")]
    only_headings = member_import.parse(db, kyogitai, (HEADER + "\n\n").encode())
    assert errors_of(only_headings) == [(None, "no_rows")]


def test_commit_checks_the_text_again_and_writes_nothing_when_it_is_wrong(db, kyogitai, secretary):
    preview = member_import.parse(db, kyogitai, csv_text(*GOOD_LINES).encode())
    assert preview.ok
    tampered = preview.text.replace("みどり町 社会福祉協議会", "偽の機関")
    before = totals(db)

    with pytest.raises(InvalidImport) as raised:
        member_import.commit(db, kyogitai, tampered, by=secretary)

    assert errors_of(raised.value.preview) == [(2, "unknown_organisation")]
    db.commit()
    assert totals(db) == before


def test_only_a_manager_of_the_body_may_commit(db, kyogitai):
    member = person_by_email(db, "member.kyogitai@example.jp")
    before = totals(db)

    with pytest.raises(Forbidden):
        member_import.commit(db, kyogitai, csv_text(*GOOD_LINES), by=member)

    assert totals(db) == before
