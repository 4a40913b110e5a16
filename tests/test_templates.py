"""Template source checks that no rendering test would notice until a person read the page."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_no_template_comment_spans_lines():
    """Django's {# … #} ends on its own line: one spread over lines is printed on the page as text
    (it was, once, under the editor's claim page). Longer comments use {% comment %}."""
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            opened = line.count("{#")
            if opened and line.count("#}") < opened:
                found.append(f"{path.relative_to(ROOT)}:{number}")
    assert not found, "multi-line {# #} comments: " + ", ".join(found)
