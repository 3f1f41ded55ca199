"""The nbconvert exporter of the HTML reports, one per thread, with the ``evaltools`` template.

nbconvert's HTMLExporter, less the accessibility pass that ends its conversion (a second parse
and serialisation of the whole page): :func:`evaltools.render.nbconvert_html.finish_html`
does that on its own parse (:data:`NO_ALT`).
"""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path
from typing import Any

import nbformat
from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

TEMPLATE_NAME = "evaltools"


def templates_dir() -> Path:
    """The folder holding evaltools' nbconvert templates (package data)."""
    return Path(str(resources.files("evaltools") / "templates" / "nbconvert"))


#: The exporter's settings for every report (no code, no prompts, images embedded).
SETTINGS: dict[str, Any] = {
    "template_name": TEMPLATE_NAME,
    "exclude_input": True,
    "exclude_input_prompt": True,
    "exclude_output_prompt": True,
    "exclude_anchor_links": True,
    "embed_images": True,
}
_THREAD = threading.local()
#: What nbconvert's HTMLExporter gives an image without alternative text (kept the same here).
NO_ALT = "No description has been provided for this image"


class ReportExporter(HTMLExporter):
    """nbconvert's HTML exporter without its accessibility pass over the finished page.

    ``HTMLExporter.from_notebook_node`` ends by parsing the whole page with BeautifulSoup,
    giving images without alternative text :data:`NO_ALT` and code cells ``tabindex``, and
    serialising it again; :func:`~evaltools.render.nbconvert_html.finish_html` parses the
    page anyway, gives the alternative text there and removes every ``tabindex``. The rest
    is nbconvert 7's method as it is (measured: the HTML export 0.66x of its CPU).
    """

    def from_notebook_node(  # type: ignore[override]
        self, nb: nbformat.NotebookNode, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[str, dict[str, Any]]:
        """The page as the template writes it (see the class docstring)."""
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        highlight_code = self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
        )
        resources = self._init_resources(resources)
        filter_data_type = WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources
        )
        self.register_filter("highlight_code", highlight_code)
        self.register_filter("filter_data_type", filter_data_type)
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


def report_exporter() -> ReportExporter:
    """This thread's nbconvert exporter with the ``evaltools`` template.

    Made once per thread and kept: a new exporter has a new Jinja environment, which compiles
    the template and the ten it extends again (a third of an HTML report's time). Its
    settings are the same for every report; what differs comes with each notebook and its
    resources.
    """
    exporter = getattr(_THREAD, "exporter", None)
    if exporter is None:
        exporter = _THREAD.exporter = ReportExporter(
            extra_template_basedirs=[str(templates_dir())], **SETTINGS
        )
    return exporter
