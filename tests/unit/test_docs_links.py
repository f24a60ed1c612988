"""Every relative link in README.md and docs/*.md leads somewhere: to a file that
exists and, with a `#anchor`, to a heading of that file, by GitHub's rule for
heading anchors."""

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.DOTALL)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]*)\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
EXPLICIT_ANCHOR = re.compile(r"""<a\s+(?:name|id)=["']([^"']+)["']""")


def without_code(text):
    """The text with fenced blocks and code spans blanked: links there are examples."""
    text = FENCE.sub(lambda match: "\n" * match.group(0).count("\n"), text)
    return CODE_SPAN.sub(lambda match: match.group(1) * 2, text)


def github_anchor(heading):
    """GitHub's anchor for a heading: its text (markup dropped) in lower case,
    every character that is not a letter, digit, `_`, `-` or space dropped, and
    spaces made `-`."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    parts = re.split(r"(`[^`]*`)", text)  # inline HTML tags go, a code span's text stays
    text = "".join(part.strip("`") if part.startswith("`") else re.sub(r"<[^>]+>", "", part)
                   for part in parts)
    text = text.lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    text = path.read_text(encoding="utf-8")
    blanked = FENCE.sub(lambda match: "\n" * match.group(0).count("\n"), text)
    found, seen = set(), {}
    for heading in HEADING.findall(blanked):
        anchor = github_anchor(heading)
        count = seen.get(anchor, 0)
        found.add(anchor if count == 0 else f"{anchor}-{count}")  # GitHub's -1, -2 …
        seen[anchor] = count + 1
    found.update(EXPLICIT_ANCHOR.findall(blanked))
    return found


def relative_links(path):
    for target in LINK.findall(without_code(path.read_text(encoding="utf-8"))):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # http:, mailto: …
            continue
        yield target


def test_the_anchor_rule_is_github_s():
    assert github_anchor("`GET <status_url>`") == "get-status_url"
    assert github_anchor("Signatures: Mechanic-compatible or timestamped") \
        == "signatures-mechanic-compatible-or-timestamped"
    assert github_anchor("Through GraphQL (`SHOPIFY_API=graphql`)") \
        == "through-graphql-shopify_apigraphql"
    assert github_anchor("The merchant's side") == "the-merchants-side"


def test_the_docs_folder_is_there():
    assert len(DOCUMENTS) > 1


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_every_relative_link_and_anchor_resolves(document):
    broken = []
    for target in relative_links(document):
        file_part, _, anchor = target.partition("#")
        linked = (document.parent / unquote(file_part)).resolve() if file_part else document
        if not linked.exists():
            broken.append(f"{target}: no file {linked}")
        elif anchor and linked.suffix == ".md" and unquote(anchor) not in anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.relative_to(ROOT)}")
    assert broken == []
