"""Case numbers (ケース番号): issued per fiscal year and prefix, typed ones checked, and the
warning about what looks like a supported person's name."""

import threading
from datetime import date

import pytest

from renkei.models import CaseNumberCounter
from renkei.services import case_numbers
from renkei.services.case_numbers import CaseNumber, issue, parse, personal_names, typed
from renkei.services.errors import DomainError
from tests.helpers import count


def test_numbers_follow_each_other_within_a_fiscal_year(db):
    first = issue(db, "", date(2026, 4, 1))
    second = issue(db, "", date(2027, 3, 31))
    assert (str(first), str(second)) == ("R8-0001", "R8-0002")


def test_the_sequence_starts_again_in_april(db):
    assert str(issue(db, "", date(2027, 3, 31))) == "R8-0001"
    assert str(issue(db, "", date(2027, 4, 1))) == "R9-0001"
    # Back in the earlier year, its own sequence goes on.
    assert str(issue(db, "", date(2026, 12, 10))) == "R8-0002"


def test_two_numbers_in_a_row_differ_across_transactions(db, app):
    day = date(2026, 12, 10)
    first = issue(db, "", day)
    db.commit()
    other = app.extensions["renkei.sessionmaker"]()
    try:
        second = issue(other, "", day)
        other.commit()
    finally:
        other.close()
    assert first != second and {first.sequence, second.sequence} == {1, 2}


def _number_asked_meanwhile(db, app, day: date) -> list[int]:
    """Another request issues a number of ``day``'s year while ``db``'s transaction is
    open; ``db`` commits a moment later. The number the other one got."""
    got = []

    def second_request():
        other = app.extensions["renkei.sessionmaker"]()
        try:
            got.append(issue(other, "", day).sequence)
            other.commit()
        finally:
            other.close()

    thread = threading.Thread(target=second_request)
    thread.start()
    thread.join(0.3)
    db.commit()
    thread.join(10)
    return got


def test_a_second_request_waits_for_the_first_and_gets_the_next_number(db, app):
    """The counter's UPDATE holds its lock to the end of the transaction: a request that
    asks meanwhile waits, then counts on from the first one's number."""
    day = date(2026, 12, 10)
    issue(db, "", day)
    db.commit()
    assert issue(db, "", day).sequence == 2  # not committed yet: the lock is held
    assert _number_asked_meanwhile(db, app, day) == [3]


def test_two_requests_making_the_years_first_number_get_one_and_two(db, app):
    """The year's counter does not exist yet and two requests issue its first number at
    once: the second's insert waits for the first's commit, finds its counter and counts
    on from it (no error, no second counter)."""
    day = date(2026, 12, 10)
    assert issue(db, "", day).sequence == 1  # the counter made, not committed yet
    assert _number_asked_meanwhile(db, app, day) == [2]
    assert count(db, CaseNumberCounter) == 1


def test_a_prefix_counts_apart_and_comes_first(db):
    day = date(2026, 12, 10)
    assert str(issue(db, "A", day)) == "A-R8-0001"
    assert str(issue(db, "", day)) == "R8-0001"
    assert str(issue(db, "A", day)) == "A-R8-0002"
    assert count(db, CaseNumberCounter) == 2


@pytest.mark.parametrize(
    ("fiscal_year", "text"),
    [(2019, "R1-0007"), (2026, "R8-0007"), (2018, "H30-0007"), (2036, "R18-0007")],
)
def test_the_year_is_the_japanese_era_year_of_the_fiscal_year(fiscal_year, text):
    assert str(CaseNumber("", fiscal_year, 7)) == text


@pytest.mark.parametrize(
    ("typed_text", "prefix", "expected"),
    [
        ("R8-0012", "", CaseNumber("", 2026, 12)),
        ("ｒ８－００１２", "", CaseNumber("", 2026, 12)),  # full width, lower case
        ("R8ー0012", "", CaseNumber("", 2026, 12)),  # the long-vowel mark as a dash
        (" r8-0012 ", "", CaseNumber("", 2026, 12)),
        ("A-R8-0012", "A", CaseNumber("A", 2026, 12)),
        ("R8-12345", "", CaseNumber("", 2026, 12345)),
        ("R8-12", "", None),  # the sequence has four digits at least
        ("R8/0012", "", None),
        ("8-0012", "", None),
        ("令和8-0012", "", None),
        ("R8-0012", "A", None),  # the installation's prefix is missing
        ("B-R8-0012", "A", None),
        ("A-R8-0012", "", None),
        ("R8-0012 山田", "", None),
    ],
)
def test_parse(typed_text, prefix, expected):
    assert parse(typed_text, prefix) == expected


def test_a_typed_number_must_have_been_issued(db, ctx):
    day = date(2026, 12, 10)
    issue(db, "", day)
    assert typed(db, "r8-0001", "", day, current=None) == "R8-0001"
    with pytest.raises(DomainError) as error:
        typed(db, "R8-0002", "", day, current=None)
    assert error.value.field == "case_number"
    assert "まだ採番されていません" in str(error.value.message)
    with pytest.raises(DomainError) as error:
        typed(db, "R8-12", "", day, current=None)
    assert str(error.value.message) == "ケース番号はR8-0012の形式で入力してください。"


def test_an_items_own_number_stays_valid_after_the_prefix_changed(db, ctx):
    assert typed(db, "R8-0003", "A", date(2026, 12, 10), current="R8-0003") == "R8-0003"


def test_the_example_follows_the_prefix_and_the_fiscal_year():
    assert case_numbers.example("", date(2027, 4, 1)) == "R9-0012"
    assert case_numbers.example("X1", date(2026, 5, 1)) == "X1-R8-0012"


# --- People's names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("山田太郎さん", ["山田太郎さん"]),
        ("プラン協議：Cさん（70代・家計改善）", ["Cさん"]),
        ("Ｃさんの件", ["Cさん"]),
        ("佐藤様からの相談", ["佐藤様"]),
        ("鈴木氏", ["鈴木氏"]),
        ("山田 太郎 様", ["山田 太郎様"]),
        ("担当の田中さんから報告", ["田中さん"]),
        ("和夫さんと土屋さん", ["和夫さん", "土屋さん"]),
        ("マリアさんの在留資格", ["マリアさん"]),
        ("A氏とBさま", ["A氏", "Bさま"]),
    ],
)
def test_names_with_an_honorific_are_found(text, found):
    assert personal_names(text) == found


@pytest.mark.parametrize(
    "text",
    [
        "皆さんへの連絡",
        "皆様",
        "関係者各位",
        "地域の皆さま",
        "お客様の声",
        "ご家族様",
        "ご本人様",
        "お母さんの介護",
        "利用者様アンケート",
        "民生委員さんの見守り",
        "ケアマネさん・ヘルパーさん",
        "SCさんの報告",
        "NPOさん",
        "会長さん",
        "看護師さんと社協さん",
        "氏名欄",
        "様子を見る",
        "同様の事例",
        "申請様式",
        "多様な主体",
        "たくさんの参加",
        "みなさん",
        "8050世帯への支援方針",
    ],
)
def test_words_that_are_no_names_are_left_alone(text):
    assert personal_names(text) == []
