"""Ready-to-paste embed codes: the one place every snippet of the widget is written."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class EmbedCode:
    key: str
    label: str
    code: str


def embed_codes(base_url: str, slug: str, title: str) -> list[EmbedCode]:
    """Ready-to-paste snippets for every way the widget can be embedded."""
    base = base_url.rstrip("/")
    path = quote(slug)
    alt = title.replace("[", "").replace("]", "")
    # Kept in step by hand with the widget's own snippets (templates/widget/_embed_macros.html).
    return [
        EmbedCode("iframe", "HTML (iframe)",
                  f'<iframe class="reader-support-widget" src="{base}/widget/{path}" title="{_attr(title)}" '
                  f'width="360" height="196" frameborder="0" loading="lazy"></iframe>'),
        EmbedCode("script", "Script (Shadow DOM)",
                  f'<script src="{base}/embed.js" async></script>\n<div data-tracker-campaign="{path}"></div>'),
        EmbedCode("image", "Image (HTML)",
                  f'<a href="{base}/c/{path}"><img src="{base}/widget/{path}.svg" alt="{_attr(title)}" '
                  f'width="360" height="108"></a>'),
        EmbedCode("json", "JSON URL", f"{base}/api/v1/campaigns/{path}"),
        EmbedCode("markdown", "Markdown image", f"[![{alt}]({base}/widget/{path}.svg)]({base}/c/{path})"),
    ]


def _attr(text: str) -> str:
    return (text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;"))

