"""One normalisation for every text that comes in, whichever way it comes.

A line break or another control character in a title, a name or a place breaks what
Renkei writes from it: an e-mail header, a calendar line, a CSV cell; PostgreSQL refuses
NUL outright. So every text is normalised to NFC (a decomposed "é" and a composed one are
the same name), and:

- one-line text (titles, names, places, addresses) has every control character (C0, DEL,
  C1 with NEL) and the line and paragraph separators turned into a space, a run of them
  (with the spaces around it) into one, and nothing before or after it;
- text with lines (notes, descriptions, Markdown) has its line breaks (CR LF, CR, NEL and the
  separators) made LF, keeps TAB, and loses every other control character.

Forms apply it to their fields (renkei.blueprints.fields.Form), so that validation sees
what will be stored; the database session applies it to every text column written
(renkei.db), so that an import, a command or a hand-read form value is covered too.
"""

import re
import unicodedata
from typing import TypeVar, overload

T = TypeVar("T")

_BREAKS = "\x85\u2028\u2029"
# Every C0 and C1 control, DEL and the line and paragraph separators.
_CONTROLS = "\x00-\x1f\x7f-\x9f\u2028\u2029"
_ONE_LINE_BREAK = re.compile(f" *[{_CONTROLS}][ {_CONTROLS}]*")
_LINE_BREAK = re.compile(f"\r\n?|[{_BREAKS}]")
_STRAY = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@overload
def one_line(value: str) -> str: ...
@overload
def one_line(value: T) -> T: ...
def one_line(value: object) -> object:
    """``value`` as a single line; anything but a string is returned as it is."""
    if not isinstance(value, str):
        return value
    text = unicodedata.normalize("NFC", value)
    return _ONE_LINE_BREAK.sub(" ", text).strip()


@overload
def multi_line(value: str) -> str: ...
@overload
def multi_line(value: T) -> T: ...
def multi_line(value: object) -> object:
    """``value`` as text with LF line breaks; anything but a string is returned as it is."""
    if not isinstance(value, str):
        return value
    text = unicodedata.normalize("NFC", value)
    return _STRAY.sub("", _LINE_BREAK.sub("\n", text))


def has_controls(value: str) -> bool:
    """Whether ``value`` holds a control character or a line or paragraph separator."""
    return re.search(f"[{_CONTROLS}]", value) is not None
