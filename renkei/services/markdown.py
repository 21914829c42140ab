"""Markdown to safe HTML: rendered with `markdown`, then sanitised with `nh3`.

Whatever the text holds (<script>, event handlers, javascript: links, raw HTML), only the
tags and attributes below reach the page, and links may only use http, https and mailto.
"""

import functools
import threading

import markdown as markdown_lib
import nh3
from markupsafe import Markup

TAGS = {
    "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "h3", "h4", "h5", "h6", "a",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


EXTENSIONS = ["tables", "sane_lists", "nl2br"]

_local = threading.local()


# Texts up to this length are kept: an agenda description or a typical minutes section. The
# cache then holds at most a few megabytes, whatever people paste.
CACHED_LENGTH = 2_000


def render(text: str, *, keep: bool = True) -> Markup:
    """Safe HTML for ``text``. ``keep=False`` for drafts (the preview): nothing of them is
    kept in memory once answered."""
    text = text or ""
    if keep and len(text) <= CACHED_LENGTH:
        return Markup(_kept_html(text))
    return Markup(_clean_html(text))


# A page shows the same texts to every member who opens it, and building the parser costs
# more than most texts' conversion: the result is kept per text, the parser per thread.
@functools.lru_cache(maxsize=1024)
def _kept_html(text: str) -> str:
    return _clean_html(text)


def _clean_html(text: str) -> str:
    html = _parser().reset().convert(text)
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def _parser() -> markdown_lib.Markdown:
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = markdown_lib.Markdown(extensions=EXTENSIONS)
    return parser
