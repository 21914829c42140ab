"""Dates as letters write them (和暦): the era boundaries, 元年, fiscal years, times, the
install setting DATE_STYLE, and the template filters that read it."""

from datetime import UTC, date, datetime, time

import pytest
from flask import render_template_string

from renkei import config as renkei_config
from renkei.services import dates
from renkei.services.dates import (
    SEIREKI,
    WAREKI,
    fiscal_year_of,
    japanese_date,
    japanese_fiscal_year,
    japanese_time,
)


@pytest.mark.parametrize(
    ("day", "written"),
    [
        (date(2025, 12, 11), "令和7年12月11日（木）"),
        (date(2019, 5, 1), "令和元年5月1日（水）"),
        (date(2019, 4, 30), "平成31年4月30日（火）"),
        (date(2020, 1, 1), "令和2年1月1日（水）"),
        (date(1989, 1, 8), "平成元年1月8日（日）"),
        # Before 平成 no era is known here: the Western year, whatever the style.
        (date(1989, 1, 7), "1989年1月7日（土）"),
    ],
)
def test_a_date_in_the_era(day, written):
    assert japanese_date(day) == written


def test_a_date_without_weekday_and_in_the_western_calendar():
    assert japanese_date(date(2019, 5, 1), weekday=False) == "令和元年5月1日"
    assert japanese_date(date(2025, 12, 11), SEIREKI) == "2025年12月11日（木）"
    assert japanese_date(date(2025, 12, 14), SEIREKI, weekday=False) == "2025年12月14日"


@pytest.mark.parametrize(
    ("day", "written"),
    [
        (date(2027, 3, 31), "令和8年度"),
        (date(2026, 4, 1), "令和8年度"),
        (date(2026, 3, 31), "令和7年度"),
        # April 2019 began under 平成, yet the year is 令和元年度 (as 1988 was 昭和63年度).
        (date(2019, 4, 1), "令和元年度"),
        (date(2019, 3, 31), "平成30年度"),
        (date(1989, 4, 1), "平成元年度"),
    ],
)
def test_a_fiscal_year_in_the_era(day, written):
    assert japanese_fiscal_year(fiscal_year_of(day)) == written


def test_a_fiscal_year_in_the_western_calendar():
    assert japanese_fiscal_year(2026, SEIREKI) == "2026年度"


def test_a_time():
    assert japanese_time(time(14, 0)) == "14時00分"
    assert japanese_time(time(9, 5), WAREKI) == "9時05分"
    assert japanese_time(time(14, 0), SEIREKI) == "14:00"


def test_the_install_setting(tmp_path, monkeypatch):
    monkeypatch.delenv("DATE_STYLE", raising=False)
    assert renkei_config.load_config(tmp_path)["DATE_STYLE"] == WAREKI
    monkeypatch.setenv("DATE_STYLE", " Seireki ")
    assert renkei_config.load_config(tmp_path)["DATE_STYLE"] == SEIREKI
    monkeypatch.setenv("DATE_STYLE", "showa")
    with pytest.raises(ValueError, match="DATE_STYLE"):
        renkei_config.load_config(tmp_path)


# 2025-12-11 14:00 in Tokyo, stored in UTC: the day before in UTC until 15:00.
MOMENT = datetime(2025, 12, 11, 5, 0, tzinfo=UTC)
LATE = datetime(2025, 12, 10, 15, 30, tzinfo=UTC)  # 0:30 on the 11th in Tokyo
TEMPLATE = (
    "{{ moment|japanese_date }} {{ late|japanese_date(weekday=False) }} "
    "{{ moment|japanese_time }} {{ moment|japanese_fiscal_year }} {{ 2019|japanese_fiscal_year }}"
)


def test_the_filters_read_the_setting_and_tokyo_time(app):
    with app.test_request_context():
        shown = render_template_string(TEMPLATE, moment=MOMENT, late=LATE)
    assert shown == "令和7年12月11日（木） 令和7年12月11日 14時00分 令和7年度 令和元年度"
    app.config["DATE_STYLE"] = SEIREKI
    with app.test_request_context():
        shown = render_template_string(TEMPLATE, moment=MOMENT, late=LATE)
    assert shown == "2025年12月11日（木） 2025年12月11日 14:00 2025年度 2019年度"


def test_the_eras_are_newest_first():
    # era_of takes the first era that has begun: an older one listed first would win.
    assert [e.first_day for e in dates.ERAS] == sorted(
        (e.first_day for e in dates.ERAS), reverse=True
    )
