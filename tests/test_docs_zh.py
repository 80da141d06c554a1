"""The Chinese documentation keeps step with the English: every heading of README.md and of every page in
docs/ has its Chinese twin at the same place and level, marked by an anchor comment naming the
English heading on the line above it (``<!-- en: Set-up (two commands) -->``)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAIRS = [("README.md", "README.zh-CN.md"),
         *((f"docs/{page.name}", f"docs/zh/{page.name}") for page in sorted((ROOT / "docs").glob("*.md")))]
ANCHOR = re.compile(r"<!--\s*en:\s*(.*?)\s*-->")


def headings(text: str) -> list[tuple[int, str, str | None]]:
    """(level, heading, English anchor on the line above or None) for headings outside code fences."""
    out, fenced, previous = [], False, ""
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"(#{1,6})\s+(.*?)\s*#*\s*$", line)):
            anchor = ANCHOR.fullmatch(previous.strip())
            out.append((len(m.group(1)), m.group(2), anchor.group(1) if anchor else None))
        if line.strip():
            previous = line
    return out


@pytest.mark.parametrize("english, chinese", PAIRS, ids=[c for _, c in PAIRS])
def test_every_heading_has_its_translation(english, chinese):
    en = [(level, text) for level, text, _ in headings((ROOT / english).read_text(encoding="utf-8"))]
    zh = headings((ROOT / chinese).read_text(encoding="utf-8"))
    unmarked = [text for _, text, anchor in zh if anchor is None]
    assert not unmarked, f"{chinese}: headings without an <!-- en: ... --> line above them: {unmarked}"
    zh_as_en = [(level, anchor) for level, _, anchor in zh]
    missing = [h for h in en if h not in zh_as_en]
    extra = [h for h in zh_as_en if h not in en]
    assert not missing, f"{chinese} lacks the section(s) {missing} of {english}"
    assert not extra, f"{chinese} has section(s) {extra} that {english} lacks (or renamed)"
    assert zh_as_en == en, f"{chinese}: sections are in another order or level than in {english}"


def test_chinese_pages_are_linked_from_the_english_ones():
    first_lines = "\n".join((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:5])
    assert "README.zh-CN.md" in first_lines
    for english, chinese in PAIRS[1:]:
        assert chinese.removeprefix("docs/") in (ROOT / english).read_text(encoding="utf-8"), english
        assert english in (ROOT / "README.md").read_text(encoding="utf-8"), english
        assert chinese in (ROOT / "README.zh-CN.md").read_text(encoding="utf-8"), chinese


def test_headings_parser():
    text = "# A\n```\n# not a heading\n```\n<!-- en: B -->\n## 乙\n"
    assert headings(text) == [(1, "A", None), (2, "乙", "B")]
