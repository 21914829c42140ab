"""Case numbers (ケース番号) and the check for people's names in agenda texts.

Renkei stores no names of the people being supported: an individual case is named by a
case number. A number is the 和暦 fiscal year and a sequence within it, ``R8-0012`` for the
twelfth case of 令和8年度 (1 April 2026 – 31 March 2027), after an optional prefix set by
the installation (``CASE_NUMBER_PREFIX``: ``A`` gives ``A-R8-0012``). The sequence starts
again at 1 every April, and counts per prefix. The fiscal year is that of the session the
number is first issued for.

Two requests never get the same number: ``issue`` raises the counter's row by one UPDATE,
which holds the row's lock (PostgreSQL) or the database's write lock (SQLite) until the
transaction ends, and reads the new value back in that same transaction.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from renkei.db import insert_if_absent, rowcount, table_of
from renkei.i18n import lazy_gettext as _l
from renkei.models import Body, CaseNumberCounter, Confidentiality
from renkei.services.dates import fiscal_year_of
from renkei.services.errors import DomainError

# Era letter and the fiscal year it starts counting from (its 元年度).
ERAS = (("R", 2019), ("H", 1989))
SEQUENCE_DIGITS = 4
DASHES = re.compile("[\u2010-\u2015\u2212\u30fc\uff70]")
NUMBER = re.compile(
    r"(?:(?P<prefix>[A-Z0-9]{1,10})-)?(?P<era>[RH])(?P<year>[1-9][0-9]?)-(?P<seq>[0-9]{4,6})"
)


@dataclass(frozen=True)
class CaseNumber:
    prefix: str
    fiscal_year: int
    sequence: int

    def __str__(self) -> str:
        era, first = next((e, f) for e, f in ERAS if self.fiscal_year >= f)
        number = f"{era}{self.fiscal_year - first + 1}-{self.sequence:0{SEQUENCE_DIGITS}d}"
        return f"{self.prefix}-{number}" if self.prefix else number


def may_carry(body: Body) -> bool:
    """Only the items of a body with a duty of secrecy (statutory or under municipal rules)
    discuss individual cases; a public body's items carry no case number."""
    return body.confidentiality in (Confidentiality.STATUTORY, Confidentiality.CLOSED)


def example(prefix: str, day: date) -> str:
    return str(CaseNumber(prefix, fiscal_year_of(day), 12))


def normal(text: str) -> str:
    """A typed case number as stored: half-width, upper case, any dash a hyphen."""
    return DASHES.sub("-", unicodedata.normalize("NFKC", text)).strip().upper()


def parse(text: str, prefix: str) -> CaseNumber | None:
    """The case number typed (full-width characters, lower case and any dash accepted), or
    None when it is not in the installation's form."""
    text = normal(text)
    match = NUMBER.fullmatch(text)
    if match is None or (match["prefix"] or "") != prefix:
        return None
    first = dict(ERAS)[match["era"]]
    return CaseNumber(prefix, first + int(match["year"]) - 1, int(match["seq"]))


def issue(db: Session, prefix: str, day: date) -> CaseNumber:
    """The next case number of the fiscal year of ``day``."""
    year = fiscal_year_of(day)
    sequence = _raise_counter(db, prefix, year)
    if sequence is None:
        # The year's first number: make its counter, unless another request just made it
        # (our insert waits for its commit), whose counter is then raised after its number.
        made = insert_if_absent(db, CaseNumberCounter, prefix=prefix, fiscal_year=year, last=1)
        sequence = 1 if made else _raise_counter(db, prefix, year)
        assert sequence is not None
    return CaseNumber(prefix, year, sequence)


def _raise_counter(db: Session, prefix: str, year: int) -> int | None:
    table = table_of(CaseNumberCounter)
    row = (table.c.prefix == prefix) & (table.c.fiscal_year == year)
    if rowcount(db.execute(update(table).where(row).values(last=table.c.last + 1))) == 0:
        return None
    return db.scalar(select(table.c.last).where(row))


def typed(db: Session, text: str, prefix: str, day: date, *, current: str | None) -> str:
    """A case number typed on the form, checked: in the installation's form, and already
    issued (a number typed ahead of the counter would later be issued to another case).
    The item's ``current`` number is accepted as it is, even after the prefix changed."""
    text = normal(text)
    if current is not None and text == current:
        return current
    number = parse(text, prefix)
    if number is None:
        raise DomainError(
            _l("Enter the case number in the form %(example)s.", example=example(prefix, day)),
            "case_number",
        )
    last = db.scalar(
        select(CaseNumberCounter.last).where(
            CaseNumberCounter.prefix == prefix, CaseNumberCounter.fiscal_year == number.fiscal_year
        )
    )
    if number.sequence < 1 or number.sequence > (last or 0):
        raise DomainError(
            _l(
                "Case number %(number)s has not been issued yet. For a new case, tick "
                "“Assign the next case number”.",
                number=str(number),
            ),
            "case_number",
        )
    return str(number)


# --- People's names -----------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


_KANJI = "\u3005\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_KATAKANA = "\u30a1-\u30fa\u30fc"
HONORIFIC = re.compile("さん|さま|様(?![子式々相態])|氏(?!名)")
NAME_BEFORE = re.compile(
    f"(?:(?<![A-Za-z])[A-Za-z]|[{_KANJI}]+(?:[ \u3000][{_KANJI}]+)?|[{_KATAKANA}]+)$"
)
# Words before さん/様/氏 that name a role or a group, not a person.
NOT_NAMES = frozenset(
    _words(
        "皆 各 同 両 多 一 異 仕 模 貴 彼 王 神 殿 奥 客 夫 妻 嫁 婿 孫 娘 息子 主人 本人 隣人 "
        "友人 知人 住人 老人 婦人 夫人 大家 近所 隣 旦那 先方 先生 学生 家族 親御"
    )
)
ROLE_ENDINGS = tuple(
    _words(
        "皆 者 員 師 族 長 官 局 課 係 医 母 父 兄 姉 弟 妹 福祉士 介護士 弁護士 栄養士 "
        "療法士 書士 税理士 包括 社協 民生 事業所 施設 病院 協会 会社 学校 役場 ケアマネ "
        "ケアマネジャー ケアマネージャー ヘルパー ボランティア コーディネーター ワーカー "
        "スタッフ ドクター ナース センター マネージャー オーナー"
    )
)


def personal_names(text: str) -> list[str]:
    """What in ``text`` looks like a person's name with さん, 様 or 氏 (「山田太郎さん」,
    「Cさん」, 「佐藤様」, 「鈴木氏」), but not 「皆さん」, 「お客様」, 「利用者様」 or
    「民生委員さん」: for a warning, so it may err either way."""
    text = unicodedata.normalize("NFKC", text)
    found = []
    for honorific in HONORIFIC.finditer(text):
        before = text[max(0, honorific.start() - 40) : honorific.start()].rstrip(" \u3000")
        name = NAME_BEFORE.search(before)
        if name is None or before[: name.start()].endswith(("お", "ご")):
            continue  # お客様, ご家族様, お母さん: polite words, not names
        word = name.group().replace(" ", "").replace("\u3000", "")
        if word in NOT_NAMES or word.endswith(ROLE_ENDINGS):
            continue
        found.append(name.group()[-12:] + honorific.group())
    return found
