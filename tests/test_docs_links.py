"""README.md and docs/*.md: every relative link and image points at a file that exists (and a heading, for #anchors)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.DOTALL)
INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+[\"'(][^)]*)?\)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.MULTILINE)
HTML = re.compile(r"<(?:img|a)\b[^>]*?\b(?:src|href)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")


def _prose(text: str) -> str:
    """``text`` without fenced code blocks and code spans (links there are not links)."""
    text = FENCE.sub("", text)
    return CODE_SPAN.sub(lambda m: m.group(0).replace("[", " ").replace("]", " ").replace("(", " "), text)


def links(text: str) -> list[str]:
    """Every link and image target in Markdown ``text``: inline, reference definitions, <img>/<a>."""
    prose = _prose(text)
    return INLINE.findall(prose) + REFERENCE.findall(prose) + HTML.findall(prose)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup dropped, lower case, punctuation removed, spaces -> '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # [text](url) -> text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").lower()
    text = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return text.replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    """The #anchors a Markdown file defines: its headings (duplicates numbered) and explicit ids."""
    text = path.read_text(encoding="utf-8")
    found: set[str] = set()
    seen: dict[str, int] = {}
    for heading in HEADING.findall(FENCE.sub("", text)):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    found.update(re.findall(r"<a\s[^>]*?\b(?:id|name)\s*=\s*[\"']([^\"']+)[\"']", text, re.IGNORECASE))
    return frozenset(found)


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    """``target: reason`` for every relative link of ``page`` that does not resolve."""
    problems = []
    for target in links(page.read_text(encoding="utf-8")):
        if not target or EXTERNAL.match(target):
            continue
        path_part, _, anchor = target.partition("#")
        path_part = unquote(path_part.split("?", 1)[0])
        if path_part.startswith("/"):
            resolved = (root / path_part.lstrip("/")).resolve()
        else:
            resolved = (page.parent / path_part).resolve() if path_part else page.resolve()
        if not resolved.exists():
            problems.append(f"{target}: {resolved} does not exist")
        elif anchor and resolved.suffix.lower() == ".md" and unquote(anchor).lower() not in anchors(resolved):
            problems.append(f"{target}: no heading #{anchor} in {resolved.name}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_relative_links_resolve(page: Path) -> None:
    assert page.is_file()
    assert broken_links(page) == []


def test_the_readme_links_every_docs_page() -> None:
    readme = links((ROOT / "README.md").read_text(encoding="utf-8"))
    pages = {f"docs/{p.name}" for p in PAGES[1:]}
    assert pages <= {target.partition("#")[0] for target in readme}


def test_the_check_catches_broken_links(tmp_path: Path) -> None:
    (tmp_path / "here.md").write_text("# Here\n\n## A `code` heading: yes\n\n## Twice\n\n## Twice\n")
    (tmp_path / "pic.png").write_bytes(b"")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n[ok](here.md) [ok](here.md#a-code-heading-yes) [ok](here.md#twice-1) [ok](#page)\n"
        "![ok](pic.png) [web](https://example.invalid/missing.md) [mail](mailto:a@b.c)\n"
        "[gone](missing.md) ![gone](img/missing.png) [bad anchor](here.md#nowhere) [self](#nope)\n"
        '<img src="also-missing.jpg"> [ref]: ref-missing.md\n\n[ref2]: ref-missing.md\n'
        "```bash\n[not a link](in-a-code-block.md)\n```\n`[not a link](in-a-code-span.md)`\n"
    )
    problems = broken_links(page, root=tmp_path)
    assert [p.split(":")[0] for p in problems] == [
        "missing.md",
        "img/missing.png",
        "here.md#nowhere",
        "#nope",
        "ref-missing.md",
        "also-missing.jpg",
    ]
