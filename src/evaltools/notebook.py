"""Small helpers the analysis notebooks call to write the report: prose, figures, labels.

Headings and prose are emitted as markdown outputs in the report's language; the report
builder turns them into markdown cells (see :mod:`evaltools.report_notebook`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from IPython.display import Image, Markdown, display
from matplotlib.figure import Figure

from evaltools.i18n import text
from evaltools.params import PrePost

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
    """`figure` as an opaque (RGB) PNG at `dpi`, without metadata.

    A figure with a layout engine (all of evaltools' are constrained) already fits its canvas,
    so it is drawn once, as is; others are cropped to their content (``bbox_inches="tight"``).
    RGB, not matplotlib's RGBA: the figures are opaque, and the files are less than half the
    size, which every later step (notebook, HTML, PDF) reads and writes.
    """
    from PIL import Image as PILImage

    if figure.get_layout_engine() is None:
        buffer = io.BytesIO()
        figure.savefig(
            buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None}
        )
        return buffer.getvalue()
    raw = io.BytesIO()
    figure.savefig(raw, format="rgba", dpi=dpi)
    width, height = (int(inches * dpi) for inches in figure.get_size_inches())
    pixels = raw.getvalue()
    if len(pixels) != 4 * width * height:  # not the size Agg uses: let matplotlib write it
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
        return buffer.getvalue()
    image = PILImage.frombuffer("RGBA", (width, height), pixels, "raw", "RGBA", 0, 1)
    background = PILImage.new("RGB", image.size, "white")
    background.paste(image, mask=image.getchannel("A"))
    out = io.BytesIO()
    background.save(out, format="png")
    return out.getvalue()


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
