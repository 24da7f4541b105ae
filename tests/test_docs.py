"""What the documentation offers to copy must work as offered."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_no_snippet_in_the_docs_needs_an_inline_style():
    # A host page with `style-src-attr 'none'` (a strict CSP) drops style="…" attributes.
    for doc in DOCS:
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"<\w+[^>]*\sstyle=", line) or re.search(r"^\s+style=\"", line):
                raise AssertionError(f"{doc.relative_to(ROOT)}:{number}: inline style in a snippet: {line.strip()}")

