"""The report notebook in Quarto's terms (evaltools.render.quarto_source); no Quarto needed."""

from __future__ import annotations

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from evaltools.render.quarto_source import figure_caption, quarto_notebook, raw_html_block

PNG = "iVBORw0KGgo="
TABLE = (
    "<style>td{x:y}</style><table class='evaltools-table'><caption>Antal klienter</caption>"
    "<tbody><tr><th>Måling 1</th><td class='num'>400</td></tr></tbody></table>"
)


def _display(data: dict) -> object:
    return new_output("display_data", data={**data, "text/plain": "<obj>"})


def _notebook() -> object:
    nb = new_notebook()
    nb.cells = [
        new_markdown_cell("# Før og efter"),
        new_code_cell(
            "show()",
            outputs=[
                _display({"text/markdown": "## Nøgleresultater"}),
                _display({"text/html": TABLE}),
                _display({"image/png": PNG}),
                _display({"text/markdown": "*Figur 4: Gennemsnit pr. skala.*"}),
                _display({"image/png": PNG}),  # no caption: stays an unnumbered output
                new_output("stream", name="stdout", text="n = 12\n"),
            ],
        ),
    ]
    return nb


def test_outputs_become_quarto_cells_in_order():
    cells = quarto_notebook(_notebook()).cells
    kinds = [c.cell_type for c in cells]
    assert kinds == ["markdown", "markdown", "markdown", "code", "code"]
    assert cells[1].source == "## Nøgleresultater"
    # the table: a numbered cross-reference div, caption moved out of the HTML
    table = cells[2].source
    assert table.startswith("::: {#tbl-1}\n\n```{=html}\n")
    assert table.endswith("\n\nAntal klienter\n\n:::")
    assert "<caption>" not in table and 'style="text-align: right"' in table
    # the captioned figure: Quarto cell options, the number left to Quarto
    assert cells[3].source == '#| label: fig-1\n#| fig-cap: "Gennemsnit pr. skala."'
    assert [list(o.data) for o in cells[3].outputs] == [["image/png"]]
    # the uncaptioned figure and the plain text stay outputs of one code cell
    assert [o.output_type for o in cells[4].outputs] == ["display_data", "stream"]
    assert [c.id for c in cells] == [f"cell-{n}" for n in range(5)]


def test_no_html_output_is_left_for_quarto_to_treat_as_a_widget():
    nb = quarto_notebook(_notebook())
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert "text/html" not in output.get("data", {})


def test_figure_caption_and_raw_block():
    assert figure_caption("*Figure 12: Effect by year.*") == "Effect by year."
    assert figure_caption("*Kilde: Danmarks Statistik*") is None
    assert raw_html_block("<p>```x```</p>") == "````{=html}\n<p>```x```</p>\n````"
