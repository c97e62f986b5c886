"""Escaping user text for HTML and for the JS template literals map libraries build HTML with.

Names come from uploaded layer attributes and lead titles from the public: `<script>`, quotes,
backticks and `${…}` must all arrive as inert text. HTML entities cover every context we use
(element text, attribute values, and strings later inserted with innerHTML).
"""

from __future__ import annotations

import html

_EXTRA = str.maketrans({"`": "&#96;", "$": "&#36;", "{": "&#123;", "}": "&#125;", "\\": "&#92;"})


def esc(value: object) -> str:
    """HTML-escape `value` (None → ""), including backticks, `$`, braces and backslashes."""
    if value is None:
        return ""
    return html.escape(str(value), quote=True).translate(_EXTRA)
