"""Search tokens, the same on SQLite and PostgreSQL (docs/architecture.md, "Search").

Japanese has no spaces between words, and a dictionary tokenizer would split 介護 and 認知
differently from the way a secretariat types them. So text is cut as Lucene's CJKAnalyzer
does: normalised (NFKC: ｶｲｺﾞ is カイゴ, ＡＢＣ is ABC; then case-folded; hiragana and katakana
stay apart), each run of CJK characters (kanji, kana, the prolonged sound mark) into
overlapping bigrams (介護保険 → 介護 護保 保険; a run of one character is one token), each
run of letters and digits of other scripts into one word. A query term is the phrase of its
tokens in order, so 介護 matches 介護保険 and 介護保険 does not match 保険介護.

Every token is written in ASCII (a CJK or other non-ASCII token as ``u`` and its code
points in hex), so that SQLite FTS5's ``unicode61`` tokenizer and PostgreSQL's ``simple``
configuration read the token string identically, whatever the database's locale.
"""

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

# Kanji (with the iteration mark 々 and 〆), hiragana, katakana and the prolonged sound mark.
_CJK = (
    "\u3005\u3006\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc-\u30fe"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
)
_RUN = re.compile(f"([{_CJK}]+)|([^\\W_{_CJK}]+)")

# PostgreSQL keeps positions up to 16383 in a tsvector: an entry's token string stops
# there on both databases, so that a phrase far into a long file matches on neither.
MAX_TOKENS = 16000
MAX_WORD = 60  # characters of one Latin word kept as a token
MIN_TERM = 2  # characters of a query term (one kanji says nothing: 市, 会)
MAX_QUERY = 100  # characters of a query


def normalise(text: str) -> str:
    """NFKC (half-width katakana to full-width, full-width Latin to ASCII), case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def _encode(token: str) -> str:
    if token.isascii():
        return token
    return "u" + "".join(f"{ord(ch):x}" for ch in token)


def _run_tokens(run: str, cjk: bool) -> list[str]:
    if not cjk:
        return [_encode(run[:MAX_WORD])]
    if len(run) == 1:
        return [_encode(run)]
    return [_encode(run[i : i + 2]) for i in range(len(run) - 1)]


def tokens(text: str) -> list[str]:
    """The tokens of ``text`` in order."""
    found: list[str] = []
    for match in _RUN.finditer(normalise(text)):
        cjk, word = match.groups()
        found += _run_tokens(cjk or word, cjk is not None)
        if len(found) >= MAX_TOKENS:
            return found[:MAX_TOKENS]
    return found


def token_string(*texts: str) -> str:
    """What the index holds for an entry: the tokens of its texts, space-separated."""
    found: list[str] = []
    for text in texts:
        found += tokens(text)
    return " ".join(found[:MAX_TOKENS])


@dataclass(frozen=True)
class Term:
    """One term of a query: what was typed (normalised) and its tokens, matched as a phrase."""

    text: str
    tokens: tuple[str, ...]


def terms(query: str) -> list[Term]:
    """The terms of a query, split at spaces (full-width ones too); a term of one character
    gives no token (``too_short``)."""
    found = []
    for part in normalise(query).split():
        parts = tokens(part)
        if parts:
            found.append(Term(part, tuple(parts)))
    return found


def too_short(query: str) -> bool:
    """A query with a term of fewer than two characters (letters or digits): 「市」 or 「a」
    would match half the index."""
    for part in normalise(query).split():
        letters = "".join(m.group(0) for m in _RUN.finditer(part))
        if letters and len(letters) < MIN_TERM:
            return True
    return False


# A body's scope token: many entries share it (see ``fts5_match`` and ``reach_terms``).
_BODY_TOKEN = re.compile(r"[sec][0-9]+")


def _rarest(found: list[Term]) -> str:
    """The token of the terms likely held by the fewest entries: the middle one of the
    longest term (a bigram across two words, 物支 in 買い物支援, is rarer than the words';
    of its four tokens it searched fastest)."""
    longest = max(found, key=lambda term: len(term.tokens))
    return longest.tokens[len(longest.tokens) // 2]


def _split(viewer: list[str]) -> tuple[list[str], list[str]]:
    """The viewer's body tokens (asked joined to a word) and their other tokens."""
    bodies = [t for t in viewer if _BODY_TOKEN.fullmatch(t)]
    return bodies, [t for t in viewer if t not in bodies]


def fts5_match(found: list[Term], viewer: list[str], *days: list[str]) -> str:
    """An FTS5 MATCH expression: each term a quoted phrase of the ``tokens`` column (tokens
    are ASCII letters and digits, so quoting is safe), all of them required, a token of
    each of ``days`` in the ``scope`` column, and the viewer's scope: a token of the terms
    (without terms, of the first date's) joined to one of their body tokens in the ``reach``
    column (migrations 0031 and 0032: ``s12xu4ecb8b77``, ``s12xn202605``), which closed
    entries do not hold, or one of their other scope tokens (few entries hold each). Asked
    for the word and the viewer's body tokens apart, FTS5 stepped each body token's list to
    the word's entries, closed ones too: a word held only by closed entries took longer
    than a word held nowhere."""
    parts = ['tokens : "' + " ".join(term.tokens) + '"' for term in found]
    parts += ["scope : (" + " OR ".join(group) + ")" for group in days]
    bodies, others = _split(viewer)
    joined = [_rarest(found)] if found else days[0]
    reach = [f"{b}x{w}" for b in bodies for w in joined]
    either = ["reach : (" + " OR ".join(reach) + ")"] if reach else []
    either += ["scope : (" + " OR ".join(others) + ")"] if others else []
    return " AND ".join([*parts, "(" + " OR ".join(either) + ")"])


def tsquery(found: list[Term]) -> str:
    """A PostgreSQL tsquery text of the terms as phrases, for ``tsv`` (the text's tokens
    have weight D there, the scope's weight A: migration 0028)."""
    return " & ".join("(" + " <-> ".join(f"{t}:D" for t in term.tokens) + ")" for term in found)


def reach_terms(
    found: list[Term], viewer: list[str], *days: list[str]
) -> tuple[list[str], list[list[str]]]:
    """What PostgreSQL's terms index (migration 0033) is asked of an entry's terms: all of
    the first list (every token of the terms), and one of each of the others (a token of
    each of ``days``, ``@`` before it; the viewer's scope — one of their body tokens joined
    to a token of the terms, ``s12|u4ecb8b77``, or one of their other scope tokens,
    ``@t345``, which few entries hold).

    Asked as a word and the viewer's body tokens apart, GIN steps each body token past every
    entry holding the word, closed ones too, and the search takes longer the more closed
    entries hold it; the joined tokens of closed entries are not the viewer's, and are
    never read. One token joined is enough (an entry holding every token and one of the
    viewer's body tokens holds that token joined to it): with each token joined, GIN
    advanced every joined token to each entry it found (a city's 買い物支援 searched in
    163 ms, with one 105 ms). Without terms, a token of the first date's is joined."""
    words = list(dict.fromkeys(t for term in found for t in term.tokens))
    groups = [[f"@{d}" for d in group] for group in days]
    bodies, others = _split(viewer)
    joined = [_rarest(found)] if found else days[0]
    groups.append([f"{b}|{w}" for b in bodies for w in joined] + [f"@{t}" for t in others])
    return words, groups


def spans(text: str, found: list[Term]) -> list[tuple[int, int]]:
    """Where the terms occur in ``text`` (character offsets of the original text), for
    marking them in a snippet: matched on the normalised text, mapped back character by
    character (NFKC may turn one character into several)."""
    flat, starts, ends = _normalised(text)
    result: list[tuple[int, int]] = []
    for term in found:
        for match in _pattern(term.text).finditer(flat):
            if match.end() > match.start():
                result.append((starts[match.start()], ends[match.end() - 1]))
    return _merged(result)


# BM25's constants (as SQLite FTS5 and Lucene use them), and the length of a typical entry
# in characters (a minutes section, an item's description).
_K1, _B, _TYPICAL_LENGTH = 1.2, 0.75, 500
_TITLE_WEIGHT = 3  # a term in the title counts as three in the text
# The characters of an entry's text its terms are counted in: BM25's weight saturates by
# the third occurrence, and the first ones say what an entry is about; reading whole
# materials (a search's 500 entries can hold 1 MB) cost more than the match, and so did
# their length (PostgreSQL unpacked each long text to count its characters).
RANK_CHARS = 1000


def relevance(title: str, text: str, found: list[Term]) -> float:
    """How well an entry that holds every term answers them: BM25's weight of each term's
    occurrences in the title and the text's first ``RANK_CHARS`` characters (saturating,
    and less the longer the title and the text read), the title's counting more.
    BM25's other factor, each term's rarity in the whole index, is left out: every result
    holds every term, and counting a term's entries would read every entry that holds it,
    closed ones too (slow for a common word, and a measure of what the viewer may not see)."""
    # Folding case matters only to a term with letters that have a case (ABC, not 介護).
    fold = normalise if any(t.text != t.text.upper() for t in found) else _nfkc
    title, text = fold(title), fold(text[:RANK_CHARS])
    norm = 1 - _B + _B * (len(title) + len(text)) / _TYPICAL_LENGTH
    score = 0.0
    for term in found:
        pattern = _pattern(term.text)
        count = _TITLE_WEIGHT * len(pattern.findall(title)) + len(pattern.findall(text))
        score += count * (_K1 + 1) / (count + _K1 * norm)
    return score


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


@functools.lru_cache(maxsize=256)
def _pattern(term: str) -> re.Pattern[str]:
    """A term's words (as ``_RUN`` cuts them) in normalised text, with spaces and
    punctuation between them not counting: 「CANARY-TITLE」 is the phrase "canary title" as
    the index reads it. A term with no words (only punctuation) matches nothing."""
    words = [m.group(0) for m in _RUN.finditer(term)]
    if not words:
        return re.compile(r"(?!)")
    return re.compile(r"[\W_]*".join(re.escape(w) for w in words))


def _normalised(text: str) -> tuple[str, Sequence[int], Sequence[int]]:
    """``text`` normalised, and for each of its characters where in ``text`` the
    characters it comes from start and end. Most text (kanji, kana, lower-case letters) is
    its own normal form, and is checked whole: normalising a long minutes section character
    by character cost more than the search's query. Otherwise each character is normalised
    with the marks that join it (half-width ｺﾞ is one ゴ, as NFKC reads the whole text)."""
    if normalise(text) == text:
        return text, range(len(text)), range(1, len(text) + 1)
    normal: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    at = 0
    while at < len(text):
        end = at + 1
        while end < len(text) and unicodedata.combining(_normal_char(text[end])[:1] or "a"):
            end += 1
        piece = normalise(text[at:end])
        normal.append(piece)
        starts += [at] * len(piece)
        ends += [end] * len(piece)
        at = end
    return "".join(normal), starts, ends


@functools.cache
def _normal_char(char: str) -> str:
    return normalise(char)


def _merged(found: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
