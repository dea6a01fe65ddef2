"""A runbook's Markdown as HTML for its page: CommonMark with tables, raw HTML off (a `<script>`
in a runbook is shown as text), links markdown-it judges unsafe (`javascript:`, `vbscript:`,
`file:`, most `data:`) left as text, every heading with its anchor, and each executable block
captioned with what it runs on. No inline script or style: the page's Content-Security-Policy
allows neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from tocsin.runbooks.blocks import Block, read_block
from tocsin.runbooks.parse import Anchors, Runbook, inline_text


def to_html(runbook: Runbook) -> str:
    """The body of `runbook` (its Markdown after the front matter) as HTML."""
    md = _renderer()
    tokens = md.parse(runbook.body)
    anchors = Anchors()
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            token.attrSet("id", anchors.next(inline_text(tokens[index + 1])))
    env = {"source": runbook.meta.source if runbook.meta else None}
    html: str = md.renderer.render(tokens, md.options, env)
    return html


def caption(block: Block) -> str:
    """What a block runs, in a few words: `sql · write · source shop · timeout 10s`."""
    parts: list[str] = [block.kind, block.mode]
    if block.source:
        parts.append(f"source {block.source}")
    if block.dialect:
        parts.append(f"{block.dialect} only")
    if block.timeout:
        parts.append(f"timeout {block.timeout.total_seconds():g}s")
    if block.auto:
        parts.append("runs when the alert fires")
    parts += [f"test: {test}" for test in block.tests]
    return " · ".join(parts)


@cache
def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    md.add_render_rule("fence", _fence)
    return md


def _fence(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    language = token.info.strip().split(" ", 1)[0]
    block, _ = read_block(token.info, token.content, 0, default_source=env.get("source"))
    css = f' class="language-{escapeHtml(language)}"' if language else ""
    code = f"<pre><code{css}>{escapeHtml(token.content)}</code></pre>\n"
    if block is None:
        return code
    kind = "block block-write" if block.mode == "write" else "block"
    meta = escapeHtml(caption(block))
    return f'<figure class="{kind}"><figcaption>{meta}</figcaption>{code}</figure>\n'
