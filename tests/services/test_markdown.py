"""Markdown to safe HTML; the parser is reused, so nothing may carry from one text to the next."""

from renkei.services import markdown


def test_script_and_event_handlers_never_survive():
    html = markdown.render(
        '<script>alert(1)</script>\n\n<img src=x onerror="alert(1)">\n\n[a](javascript:alert(1))'
    )
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html


def test_a_link_reference_in_one_text_does_not_serve_the_next():
    first = markdown.render("[資料]: https://example.jp/a\n\n本文 [資料][資料]")
    second = markdown.render("別の本文 [資料][資料]")
    assert 'href="https://example.jp/a"' in first
    assert "href" not in second


def test_lists_and_tables_render_the_same_each_time():
    text = "| 項目 | 分 |\n|---|---|\n| 報告 | 10 |\n\n1. 一\n2. 二"
    first = markdown.render(text)
    assert "<table>" in first and "<ol>" in first
    markdown.render("* 別の\n* リスト")
    assert markdown.render(text) == first
