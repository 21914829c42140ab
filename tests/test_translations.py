"""The interface is Japanese first: every string the code and templates use has a Japanese
translation in the catalog, so nobody meets English text by accident."""

import ast
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "renkei/translations/ja/LC_MESSAGES/messages.po"
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}


def used_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT / "renkei", METHODS, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found | called_in_python()


def called_in_python() -> set[str]:
    """Every constant a gettext function is called with, those inside f-strings included:
    Babel's extractor does not look into f-strings (``f"{_('Answer here')}: ..."``)."""
    found = set()
    for path in (ROOT / "renkei").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in KEYWORDS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    return found


def test_every_interface_string_has_a_japanese_translation():
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    translated = {
        m.id[0] if m.pluralizable else m.id
        for m in catalog
        if m.id and not m.fuzzy and (all(m.string) if m.pluralizable else m.string)
    }
    missing = sorted(used_messages() - translated)
    assert not missing, "run `make messages` and translate in messages.po:\n" + "\n".join(missing)


def test_make_messages_finds_every_string_the_code_uses():
    """`make messages` extracts with Babel, which does not look into f-strings: a string
    translated only there would be dropped from messages.po, its Japanese with it."""
    extracted = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / "renkei", METHODS, keywords=KEYWORDS
        )
    }
    assert not sorted(called_in_python() - extracted)


def test_joint_sessions_are_kyodo_kaisai_never_godo():
    """The notice's word for bodies meeting together is 共同開催; 「合同」 appears nowhere in
    the interface, the demo town or the documentation (GLOSSARY: joint session)."""
    files = [*ROOT.glob("renkei/**/*.py"), *ROOT.glob("renkei/**/*.html"), CATALOG]
    files += [ROOT / "README.md", *ROOT.glob("docs/*.md")]
    assert [str(f.relative_to(ROOT)) for f in files if "合同" in f.read_text("utf-8")] == []
