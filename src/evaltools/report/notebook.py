"""Small helpers the analysis notebooks call to write the report: prose, figures, labels.

Headings and prose are emitted as markdown outputs in the report's language; the report
builder turns them into markdown cells (see :mod:`evaltools.render.report_notebook`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from IPython.display import Image, Markdown, display
from matplotlib.figure import Figure

from evaltools.params.models import PrePost
from evaltools.report.i18n import text

FIGURE_DPI = 150


def md(markdown: str) -> None:
    """Show `markdown` as a markdown output (becomes report prose)."""
    display(Markdown(markdown))


def heading(key: str, language: str, *, level: int = 2, **values: object) -> None:
    """Show the catalogue text `key` as a heading of `level`."""
    md("#" * level + " " + text(key, language, **values))


def bullets(lines: list[str]) -> None:
    """Show `lines` as a bulleted list."""
    md("\n".join(f"- {line}" for line in lines))


@dataclass
class FigureCounter:
    """Numbers a report's figures and shows each with its caption."""

    language: str
    count: int = 0
    shown: list[str] = field(default_factory=list)

    def show(self, figure: Figure, caption: str) -> None:
        """Show `figure` as a PNG followed by its numbered caption, then close it."""
        import matplotlib.pyplot as plt

        self.count += 1
        data = png_bytes(figure)
        plt.close(figure)
        display(Image(data=data, format="png"))
        label = text("nb_figure", self.language, n=self.count)
        md(f"*{label}: {caption}*")
        self.shown.append(caption)


def png_bytes(figure: Figure, dpi: int = FIGURE_DPI) -> bytes:
    """`figure` as a PNG at `dpi`, cropped to what is drawn, without metadata.

    Always ``bbox_inches="tight"``, even for constrained-layout figures: a layout can't shrink
    text that is wider than the figure (a long axis label on a narrow figure), and "tight"
    widens the image to hold it instead of cutting it off.
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def value_labels(spec: PrePost, group: str, language: str) -> dict[str, str] | None:
    """Labels of the codes in group column `group`, in the order the parameter file gives.

    None when the parameter file gives no labels for that column (codes are shown as they are).
    """
    labels = spec.value_labels.get(group)
    if not labels:
        return None
    return {str(code): label.get(language) for code, label in labels.items()}


def group_label(spec: PrePost, group: str, language: str) -> str:
    """The name of group column `group` in the report's language (the column name if none)."""
    label = spec.group_labels.get(group)
    return label.get(language) if label else group
