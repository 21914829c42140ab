"""The words of the Japanese interface, as a municipal secretariat writes them: every
translation in the catalogue and the Japanese written into the templates is checked for the
faults that crept in before (issue 19).

- a full-width colon 「：」 after Japanese text, never ":";
- no space before a particle or a counter (「議長として」, 「5人」), nor between a placeholder
  and the Japanese around it;
- 共同開催, never 合同; 招集対象者 (those convened), never 招集者 (the convener);
- no "outbox", "SHA-256" or "Markdown": plain words instead.
"""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "renkei/translations/ja/LC_MESSAGES/messages.po"
TEMPLATES = ROOT / "renkei/templates"

JAPANESE = "\u3040-\u30ff\u3400-\u9fff\uff01-\uff5e「」（）、。・…〜"
JP = f"[{JAPANESE}]"
PLACEHOLDER = r"%\(\w+\)[-#0 +]*\d*[sd]"
# Particles, and the counters and suffixes written straight after a number or a name.
PARTICLE = (
    r"(?:[をにでがはのとへもや]|から|まで|より"
    r"|人|名|件|回|分|時間|日|年|か月|個|行|列|文字|ページ|通|週|さん)"
)

FAULTS = {
    "half-width colon after Japanese": re.compile(f"{JP}[ \u3000]*:(?!//)"),
    "space before a particle or counter": re.compile(
        f"(?:{PLACEHOLDER}|{JP}|[A-Za-z0-9)\\]])[ \u3000]+{PARTICLE}"
    ),
    "space between Japanese and a placeholder": re.compile(
        # 「山田 太郎 様」: the honorific of an address stands apart, as letters write it.
        f"{JP}[ \u3000]+{PLACEHOLDER}|{PLACEHOLDER}[ \u3000]+(?!様){JP}"
    ),
    "合同 (joint holding is 共同開催)": re.compile("合同"),
    "招集者 (those convened are 招集対象者)": re.compile("招集者(?!対象)"),
    "outbox, SHA-256 or Markdown": re.compile(r"outbox|sha-?256|markdown", re.IGNORECASE),
}


# In templates, text around an expression may be anyone's name (「さとう はなこ」 in a
# sample table), and a letter numbers its headings 「1　日時」: only a space after an
# expression or a number before a particle counts.
TEMPLATE_FAULTS = {
    **FAULTS,
    "space before a particle or counter": re.compile(
        f"(?:{PLACEHOLDER}|[A-Za-z0-9)\\]]) +{PARTICLE}"
    ),
}
del TEMPLATE_FAULTS["space between Japanese and a placeholder"]


def faults_in(text: str, faults: dict[str, re.Pattern] = FAULTS) -> list[str]:
    return [name for name, pattern in faults.items() if pattern.search(text)]


def translations() -> list[tuple[str, str]]:
    """(msgid, msgstr) of every translation, each plural form apart."""
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    found = []
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id[0] if message.pluralizable else message.id
        strings = message.string if message.pluralizable else (message.string,)
        found += [(msgid, s) for s in strings if s]
    return found


TRANSLATED = re.compile(r"""\{\{\s*_\(\s*(["'])(.*?)\1\s*(?:,[^)]*)?\)\s*\}\}""")


def template_texts() -> list[tuple[str, str]]:
    """(template, text) of the text every template shows in Japanese: each ``_("...")``
    replaced by its translation, any other expression by a placeholder (so that
    「{{ n }} {{ _("people") }}」 is read as 「%(x)s 人」), tags and comments taken out."""
    japanese = dict(translations())
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text("utf-8")
        text = re.sub(r"\{#.*?#\}", "", text, flags=re.DOTALL)
        text = TRANSLATED.sub(lambda m: japanese.get(m.group(2), m.group(2)), text)
        text = re.sub(r"\{%.*?%\}", "", text, flags=re.DOTALL)
        text = re.sub(r"\{\{.*?\}\}", "%(x)s", text, flags=re.DOTALL)
        text = re.sub(r"<[^>]*>", "|", text)
        for line in text.splitlines():
            if re.search(JP, line):
                found.append((str(path.relative_to(ROOT)), line.strip()))
    return found


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("%(name)s（代理: %(proxy)s）", "half-width colon after Japanese"),
        ("%(body)s の議長として", "space before a particle or counter"),
        ("%(n)d 人", "space before a particle or counter"),
        ("Renkei でご確認ください", "space before a particle or counter"),
        ("議題 %(n)d", "space between Japanese and a placeholder"),
        ("合同開催", "合同 (joint holding is 共同開催)"),
        ("招集者", "招集者 (those convened are 招集対象者)"),
        ("承認された内容の SHA-256：", "outbox, SHA-256 or Markdown"),
        ("送信待ちフォルダ（outbox）", "outbox, SHA-256 or Markdown"),
        ("Markdown記法", "outbox, SHA-256 or Markdown"),
    ],
)
def test_the_checks_find_the_faults_they_are_for(text, fault):
    assert fault in faults_in(text)


@pytest.mark.parametrize(
    "text",
    [
        "%(body)sの議長として",
        "%(n)d人",
        "招集対象者",
        "共同開催",
        "時刻を14:00のように入力してください。",
        "会議のリンクは「https://」で始まる形で入力してください。",
        "%(name)s 様",
        "%(old)s → %(new)s",
        "開催回 #%(n)d",
    ],
)
def test_the_checks_pass_good_japanese(text):
    assert faults_in(text) == []


def test_the_catalogue_is_written_as_a_secretariat_writes():
    found = [
        f"{msgid!r} → {msgstr!r}: {', '.join(faults)}"
        for msgid, msgstr in translations()
        if (faults := faults_in(msgstr))
    ]
    assert found == [], "\n".join(found)


def test_the_japanese_in_templates_is_written_as_a_secretariat_writes():
    found = [
        f"{name}: {text!r}: {', '.join(faults)}"
        for name, text in template_texts()
        if (faults := faults_in(text, TEMPLATE_FAULTS))
    ]
    assert found == [], "\n".join(found)
