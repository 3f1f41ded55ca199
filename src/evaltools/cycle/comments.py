"""The organisation's own comments: from the parameters or a Markdown file, shown as text.

Comments come from untrusted files. They are never passed on as Markdown or HTML: each is
escaped and shown in a box that names it as the organisation's own words.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from evaltools.errors import ParamsError
from evaltools.params.models import Comments

__all__ = ["comment_html", "group_section", "load_comments"]

_HEADING = re.compile(r"^##\s+(\w+)\s*$")
REPORT = "report"
#: The comment section of a group's table in a steering report (``departments`` for the
#: group column ``department``); another group column's section is its own name.
GROUP_SECTIONS = {"department": "departments", "phase": "phases"}


def group_section(group: str) -> str:
    """The comment section of the steering report's table for group column `group`."""
    return GROUP_SECTIONS.get(group, group)


def load_comments(comments: Comments | None, language: str) -> dict[str, str]:
    """The comments in `language`, by section (``"report"`` for the report as a whole).

    The file's comments come first; a comment given in the parameters replaces the file's
    for the same section.

    Raises
    ------
    ParamsError
        If the file is missing or not UTF-8, or a ``## heading`` names an unknown section.
    """
    if comments is None:
        return {}
    found: dict[str, str] = {}
    if comments.file is not None:
        found.update(_read_file(comments.file))
    if comments.report is not None:
        found[REPORT] = comments.report.get(language)
    for section, comment in comments.sections.items():
        found[section] = comment.get(language)
    return {k: v.strip() for k, v in found.items() if v and v.strip()}


def _read_file(path: Path) -> dict[str, str]:
    allowed = ("summary", "clients", "trend", "departments", "phases", "status")
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ParamsError(f"comments.file ({path}): can't read it ({exc}).") from exc
    sections: dict[str, list[str]] = {REPORT: []}
    current = REPORT
    for number, line in enumerate(lines, start=1):
        match = _HEADING.match(line)
        if match:
            current = match[1]
            if current not in allowed:
                raise ParamsError(
                    f"comments.file ({path}), line {number}: section '{current}' must be one "
                    f"of {', '.join(allowed)}."
                )
            sections[current] = []
        else:
            sections[current].append(line)
    return {k: "\n".join(v) for k, v in sections.items()}


def comment_html(comment: str, label: str) -> str:
    """One comment as escaped HTML: a labelled box, paragraphs kept, no markup let through."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", comment) if p.strip()]
    body = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return (
        '<aside class="evaltools-comment" style="border-left:4px solid currentColor;'
        'padding:0.2em 1em;margin:1em 0;background:rgba(127,127,127,0.08)">'
        f"<p><strong>{html.escape(label)}</strong></p>{body}</aside>"
    )
