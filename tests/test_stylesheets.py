"""The stylesheets leave text size to the reader: on screen every font size is relative (rem,
em, %), so the browser's text-size setting enlarges all text. Absolute sizes (px, pt…) are
for paper only: inside @media print and @page rules."""

import re
from pathlib import Path

import pytest

import renkei

CSS = sorted((Path(renkei.__file__).parent / "static" / "css").glob("*.css"))
ABSOLUTE = re.compile(r"(?<![\w.-])(\d+(?:\.\d+)?)(px|pt|pc|cm|mm|in|q)\b", re.IGNORECASE)
FONT_SIZE = re.compile(r"(?:^|[;{\s])(font-size|font)\s*:\s*([^;}]*)", re.IGNORECASE)
PRINT = re.compile(r"^@(media\b[^{]*\bprint\b|page\b)", re.IGNORECASE)


def screen_declarations(text: str) -> list[tuple[int, str]]:
    """(offset, text) of each stretch of declarations outside print and @page rules; comments
    are left out. A stretch is what lies between two braces, in the block the braces around
    it open (nested blocks, as @page's margin boxes, included)."""
    text = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group()), text, flags=re.S)
    stretches, preludes, start = [], [], 0
    for brace in re.finditer(r"[{}]", text):
        chunk = text[start : brace.start()]
        if not any(PRINT.match(p) for p in preludes):
            stretches.append((start, chunk))
        if brace.group() == "{":
            # What precedes the brace, after the last declaration, is the block's prelude.
            preludes.append(chunk.rsplit(";", 1)[-1].strip())
        else:
            preludes.pop()
        start = brace.end()
    return stretches


def absolute_font_sizes(text: str) -> list[str]:
    return [
        f"line {text.count(chr(10), 0, offset + found.start(1)) + 1}: "
        f"{found.group(1)}: {found.group(2).strip()}"
        for offset, chunk in screen_declarations(text)
        for found in FONT_SIZE.finditer(chunk)
        if ABSOLUTE.search(found.group(2))
    ]


@pytest.mark.parametrize("path", CSS, ids=[p.name for p in CSS])
def test_screen_font_sizes_are_relative(path: Path):
    assert absolute_font_sizes(path.read_text(encoding="utf-8")) == []


def test_the_check_finds_an_absolute_size_on_screen_and_leaves_print_alone():
    sheet = """
    body { margin: 0; font-size: 16px; }
    .a { font: bold 12pt serif; }
    .b { font-size: 0.9rem; }
    @media (max-width: 40rem) { .c { font-size: 14px; } }
    @media print { body { font-size: 10.5pt; } .d { font-size: 9px; } }
    @page { size: A4; @bottom-center { font-size: 9pt; } }
    /* .e { font-size: 20px; } */
    """
    assert [f.split(": ", 1)[1] for f in absolute_font_sizes(sheet)] == [
        "font-size: 16px",
        "font: bold 12pt serif",
        "font-size: 14px",
    ]


def test_the_stylesheets_are_found():
    assert {p.name for p in CSS} >= {"app.css", "letters.css", "minutes.css"}
