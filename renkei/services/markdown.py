"""Markdown to safe HTML: rendered with `markdown`, then sanitised with `nh3`.

Whatever the text holds (<script>, event handlers, javascript: links, raw HTML), only the
tags and attributes below reach the page, and links may only use http, https and mailto.
"""

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


def render(text: str) -> Markup:
    html = markdown_lib.markdown(text or "", extensions=["tables", "sane_lists", "nl2br"])
    clean = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)
