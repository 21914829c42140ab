"""Header fields with Japanese text, written by hand (RFC 2047, RFC 5322).

Python's email package folds a long non-ASCII header into encoded words wrongly: it moves
or drops the spaces between words (the space between two encoded words is not part of the
text, cpython gh-144156) and writes encoded words of 76 characters, one more than RFC 2047
allows. So a Subject, and an address's display name, that is not plain ASCII is written
here instead: the whole text as "B" encoded words of at most 75 characters, each holding
whole characters and every space of the text, one to a line of at most 78 characters.
Plain ASCII headers are left to the package, which folds them at their spaces.

(Python 3.11's own parser reads a space into a display name between two encoded words,
cpython gh-128110; mail clients follow RFC 2047 6.2 and do not. Names of up to 14
Japanese characters fit in one word.)
"""

import base64
from email.headerregistry import Address
from email.policy import EmailPolicy

MAX_LINE = 78  # RFC 5322 2.1.1: a line SHOULD be at most 78 characters
MAX_WORD = 75  # RFC 2047 2: an encoded word is at most 75 characters
PREFIX, SUFFIX = "=?utf-8?b?", "?="
ADDRESS_FIELDS = {"from", "to", "reply-to", "cc"}


def _word_length(octets: int) -> int:
    return len(PREFIX) + 4 * -(-octets // 3) + len(SUFFIX)


def encoded_words(text: str, first_room: int = MAX_WORD) -> list[str]:
    """``text`` as encoded words; the first at most ``first_room`` characters long (what is
    left of the header's first line), the others at most 75. A character is never split
    across two words (RFC 2047 5)."""
    words: list[str] = []
    chunk, room = b"", max(first_room, _word_length(4))
    for char in text:
        octets = char.encode("utf-8")
        if chunk and _word_length(len(chunk) + len(octets)) > room:
            words.append(_word(chunk))
            chunk, room = b"", MAX_WORD
        chunk += octets
    return [*words, _word(chunk)] if chunk else words


def _word(octets: bytes) -> str:
    return PREFIX + base64.b64encode(octets).decode("ascii") + SUFFIX


def _folded(name: str, tokens: list[str], linesep: str) -> str:
    """``name: tokens``, a space between tokens, a line break before a token that would
    make the line longer than 78 characters."""
    lines = [f"{name}:"]
    for token in tokens:
        if len(lines[-1]) + 1 + len(token) > MAX_LINE and lines[-1].strip():
            lines.append("")
        lines[-1] += " " + token
    return linesep.join(lines) + linesep


def _subject(name: str, text: str, linesep: str) -> str:
    return _folded(name, encoded_words(text, MAX_LINE - len(name) - 2), linesep)


def _addresses(name: str, addresses: tuple[Address, ...], linesep: str) -> str:
    tokens: list[str] = []
    for number, address in enumerate(addresses):
        if tokens:
            tokens[-1] += ","
        if address.display_name.isascii():
            tokens.append(str(address))
            continue
        room = MAX_LINE - len(name) - 2 if number == 0 else MAX_WORD
        tokens += [*encoded_words(address.display_name, room), f"<{address.addr_spec}>"]
    return _folded(name, tokens, linesep)


class MailPolicy(EmailPolicy):
    """The SMTP policy (CRLF line ends), writing non-ASCII subjects and display names as
    above."""

    def fold(self, name: str, value: str) -> str:
        return self._by_hand(name, value) or super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        folded = self._by_hand(name, value)
        return folded.encode("ascii") if folded else super().fold_binary(name, value)

    def _by_hand(self, name: str, value: str) -> str | None:
        field = name.lower()
        if field == "subject" and not str(value).isascii():
            return _subject(name, str(value), self.linesep)
        addresses = getattr(value, "addresses", None)
        if field in ADDRESS_FIELDS and addresses and _needs_encoding(addresses):
            return _addresses(name, addresses, self.linesep)
        return None


def _needs_encoding(addresses: tuple[Address, ...]) -> bool:
    """A display name is not ASCII, and every address itself is (SMTPUTF8 addresses are
    left to the package)."""
    return any(not a.display_name.isascii() for a in addresses) and all(
        a.addr_spec.isascii() for a in addresses
    )


POLICY = MailPolicy(linesep="\r\n")
