"""Language audit: a Danish report holds no English, an English report no Danish.

The word lists come from the text catalogue itself: the distinctive English words are the
words of the catalogue's ``en`` texts that appear in none of its ``da`` texts, and the
other way round. Every text a report shows comes from that catalogue or from the parameter
file, so a catalogue word of the other language in a report means a text that was not
translated (or a text written outside the catalogue).

Two tiers:

- fast, in the test process: the pre/post and register analyses on the demo data, every
  table, key finding and figure their notebooks show (figure texts read from matplotlib's
  artists: titles, axis and tick labels, legends, annotations) and the theory of change;
- end-to-end (``slow``): the pre/post and theory-of-change notebooks executed by papermill
  in both languages, rendered to report.html and report.pdf, their visible text read back.

Numbers: Danish writes decimal commas and "83 %", English decimal points and "83%".
"""

from __future__ import annotations

import re
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path

import matplotlib
import pytest
from bs4 import BeautifulSoup
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text
from ruamel.yaml import YAML

from evaltools.errors import EvaltoolsError
from evaltools.report.i18n import catalogue, parse_texts

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[2]
DEMO_PARAMS = ROOT / "params" / "demo" / "familiehuset_nord.yml"
WORD = re.compile(r"[A-Za-zÆØÅæøåÉéüÜ]+")
LANGUAGES = ("da", "en")

# A decimal number written the other language's way: "2.30" in Danish, "2,30" in English
# (thousands separators, "1.234" and "1,234", have three digits after the mark).
WRONG_DECIMAL = {
    "da": re.compile(r"\d\.\d(?!\d\d(?!\d))"),
    "en": re.compile(r"\d,\d(?!\d\d(?!\d))"),
}
WRONG_PERCENT = {"da": re.compile(r"\d%"), "en": re.compile(r"\d[ \u00a0\u202f]%")}
RIGHT_PERCENT = {"da": re.compile(r"\d[ \u00a0\u202f]%"), "en": re.compile(r"\d%")}

THEORY_OF_CHANGE = """
theory_of_change:
  activities:
    - {da: "Individuel rådgivning", en: "Individual counselling"}
    - {da: "Gruppeforløb med andre i samme situation", en: "Group courses with others"}
  outputs:
    - {da: "120 klienter i rådgivning", en: "120 clients in counselling"}
    - {da: "14 gruppeforløb gennemført", en: "14 group courses held"}
  outcomes:
    - name: less_distress
      label: {da: "Færre psykiske eftervirkninger", en: "Fewer psychological after-effects"}
      term: short
      leads_to: [independent_life]
      indicators:
        - {analysis: prepost, scale: anxiety_depression, target: 1.9, target_share_improved: 0.3}
        - {analysis: prepost, scale: ptsd, target: 2.3}
    - name: network
      label: {da: "Et netværk at trække på", en: "A network to rely on"}
      term: short
      leads_to: [independent_life]
      indicators:
        - {analysis: prepost, scale: network, target_share_improved: 0.15}
    - name: independent_life
      label: {da: "Et selvstændigt liv uden vold", en: "An independent life free of violence"}
      term: long
      indicators:
        - {analysis: prepost, scale: independence, target: 3.0}
        - {analysis: prepost, scale: economic_stress, target: 45}
"""


@cache
def distinctive_words() -> dict[str, frozenset[str]]:
    """Per language, the catalogue's words that the other language's texts never use.

    English words of fewer than three letters are left out ("a", "of" and "is" are too
    short to be safe markers; "af", "og", "er" are kept for Danish).
    """
    words: dict[str, set[str]] = {lang: set() for lang in LANGUAGES}
    for texts in catalogue().values():
        for lang in LANGUAGES:
            plain = re.sub(r"\{[^}]*\}", " ", texts[lang])
            words[lang] |= {w.lower() for w in WORD.findall(plain)}
    return {
        "en": frozenset(w for w in words["en"] - words["da"] if len(w) >= 3),
        "da": frozenset(w for w in words["da"] - words["en"] if len(w) >= 2),
    }


def names_in_params(params) -> set[str]:
    """Words of names that are never translated: grantee, intervention, data values."""
    names = f"{params.grantee} {params.intervention} {params.period}"
    return {w.lower() for w in WORD.findall(names)}


def foreign_words(text: str, language: str, *, allowed: set[str] = frozenset()) -> list[str]:
    """The other language's distinctive catalogue words found in `text`."""
    other = "en" if language == "da" else "da"
    found = {w.lower() for w in WORD.findall(text)}
    return sorted((found & distinctive_words()[other]) - set(allowed))


def _context(text: str, word: str) -> str:
    match = re.search(rf"(?i).{{0,50}}\b{word}\b.{{0,50}}", text.replace("\n", " "))
    return match.group(0) if match else word


def assert_in_language(text: str, language: str, *, allowed: set[str] = frozenset()) -> None:
    bad = foreign_words(text, language, allowed=allowed)
    assert not bad, [_context(text, w) for w in bad]


def assert_numbers_in_language(cells: list[str], language: str) -> None:
    wrong = [c for c in cells if WRONG_DECIMAL[language].search(c)]
    wrong += [c for c in cells if WRONG_PERCENT[language].search(c)]
    assert not wrong, wrong[:10]


def figure_texts(figure) -> list[str]:
    """Every text a figure shows: titles, labels, tick labels, legends, annotations."""
    FigureCanvasAgg(figure).draw()  # tick labels are made when the figure is drawn
    return [t.get_text() for t in figure.findobj(Text) if t.get_visible() and t.get_text().strip()]


def html_text(fragment: object) -> tuple[str, list[str]]:
    """The visible text of an object's HTML (or of an HTML string), and its table cells."""
    markup = fragment if isinstance(fragment, str) else fragment._repr_html_()
    soup = BeautifulSoup(markup, "html.parser")
    for hidden in soup(["style", "script"]):
        hidden.decompose()
    cells = [c.get_text(" ", strip=True) for c in soup.select("td, th")]
    return soup.get_text(" "), cells


# ---------------------------------------------------------------------------
# The word lists themselves
# ---------------------------------------------------------------------------


def test_catalogue_texts_are_text_in_both_languages():
    assert parse_texts('"yes":\n  da: "Ja"\n  en: "Yes"\n', "x.yml") == {
        "yes": {"da": "Ja", "en": "Yes"}
    }
    with pytest.raises(EvaltoolsError, match=r"text key True in x.yml is not text"):
        parse_texts("yes:\n  da: Ja\n  en: Ja\n", "x.yml")
    # YAML 1.1 (the C parser's dialect) reads a bare No as false: refused, not shown as "False"
    with pytest.raises(EvaltoolsError, match=r"text 'nej' \(en\) in x.yml is not text"):
        parse_texts("nej:\n  da: Nej\n  en: No\n", "x.yml")
    with pytest.raises(EvaltoolsError, match=r"text 'k' in x.yml needs exactly 'da' and 'en'"):
        parse_texts("k:\n  da: Nej\n", "x.yml")
    assert all(set(v) == {"da", "en"} for v in catalogue().values())


def test_word_lists_are_distinctive():
    words = distinctive_words()
    for english in ("the", "and", "clients", "improvement", "measurement", "share", "targets"):
        assert english in words["en"], english
    for danish in ("og", "af", "klienter", "forbedring", "måling", "andel", "mål"):
        assert danish in words["da"], danish
    assert not words["en"] & words["da"]
    # a sentence in each language is recognised, and not mistaken for the other
    assert foreign_words("The share of clients improved.", "da") == [
        "clients",
        "improved",
        "share",
        "the",
    ]
    assert foreign_words("Andelen af klienter med forbedring.", "en") == [
        "af",
        "andelen",
        "forbedring",
        "klienter",
        "med",
    ]
    assert foreign_words("Andelen af klienter med forbedring.", "da") == []


# ---------------------------------------------------------------------------
# Fast tier: everything the notebooks show, made in this process
# ---------------------------------------------------------------------------


def _demo_params(language: str):
    from evaltools.params.loading import load_params

    params = load_params(DEMO_PARAMS)
    return params.model_copy(update={"language": language})


@pytest.fixture(scope="module")
def prepost_parts():
    """Per language: every table, finding and figure text of the pre/post notebook."""
    from evaltools.data.readers import read_analysis_data
    from evaltools.prepost.analysis import analyse_prepost
    from evaltools.prepost.figures import (
        before_after_figure,
        group_figure,
        progression_figure,
        trajectory_figure,
    )
    from evaltools.prepost.findings import key_findings
    from evaltools.prepost.tables import (
        attrition_table,
        occasion_counts_table,
        scale_results_table,
        steering_table,
    )

    params = _demo_params("da")
    spec = params.prepost
    data = read_analysis_data(spec)
    parts = {}
    for lang in LANGUAGES:
        result = analyse_prepost(data, spec=spec, min_cell_size=params.min_cell_size, language=lang)
        texts, cells = [], []
        tables = [
            occasion_counts_table(result),
            attrition_table(result),
            scale_results_table(result, part="change"),
            scale_results_table(result, part="reliable_change"),
            steering_table(result, by="phase"),
        ]
        for shown in tables:
            words, table_cells = html_text(shown)
            texts.append(words)
            cells += table_cells
        texts += key_findings(result)
        figures = [
            before_after_figure(result),
            progression_figure(result),
            trajectory_figure(result),
            *(group_figure(result, by=group) for group in spec.groups),
        ]
        figure_words = [t for fig in figures for t in figure_texts(fig)]
        parts[lang] = {"texts": texts, "cells": cells, "figures": figure_words}
    return parts


@pytest.mark.parametrize("language", LANGUAGES)
def test_prepost_tables_and_findings_in_one_language(prepost_parts, language):
    params = _demo_params(language)
    allowed = names_in_params(params) | {"aalborg", "hjørring"}  # department names (data)
    assert_in_language("\n".join(prepost_parts[language]["texts"]), language, allowed=allowed)


@pytest.mark.parametrize("language", LANGUAGES)
def test_prepost_figures_in_one_language(prepost_parts, language):
    texts = prepost_parts[language]["figures"]
    assert len(texts) > 50  # titles, axis labels, ticks, legends of five figures
    allowed = {"aalborg", "hjørring"}
    assert_in_language("\n".join(texts), language, allowed=allowed)
    assert_numbers_in_language(texts, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_prepost_numbers_written_the_languages_way(prepost_parts, language):
    cells = prepost_parts[language]["cells"]
    assert_numbers_in_language(cells, language)
    shown = " ".join(cells)
    assert RIGHT_PERCENT[language].search(shown)  # shares are shown, the language's way
    decimal = r"\d,\d\d\b" if language == "da" else r"\d\.\d\d\b"
    assert re.search(decimal, shown)


def test_danish_and_english_figures_differ(prepost_parts):
    # the same figures, two languages: texts in common hold only numbers and names
    da = set(prepost_parts["da"]["figures"])
    en = set(prepost_parts["en"]["figures"])
    common = {w.lower() for t in da & en for w in WORD.findall(t)}
    assert common <= {"ptsd", "n", "aalborg", "hjørring"}, common


@pytest.fixture(scope="module")
def register_parts():
    """Per language: every table, finding and figure text of the register notebook."""
    from evaltools.register import analyse_register_panel
    from evaltools.register.report import (
        counts_table,
        event_time_table,
        overall_table,
        register_findings,
    )

    params = _demo_params("da")
    spec = params.register_panel
    palette = ["#1F3A5F", "#D9792B", "#1B7F7A"]
    parts = {}
    for lang in LANGUAGES:
        result = analyse_register_panel(spec, min_cell_size=params.min_cell_size, language=lang)
        texts, cells = [], []
        for shown in (
            counts_table(result),
            overall_table(result),
            event_time_table(result),
        ):
            words, table_cells = html_text(shown)
            texts.append(words)
            cells += table_cells
        balance, balance_cells = html_text(result.balance)
        cells += balance_cells
        texts += register_findings(result)
        estimators = [
            e for e in ("event_study", "staggered_dynamic") if e in set(result.table["estimator"])
        ]
        love = figure_texts(result.love_plot(palette=palette))
        figures = []
        for outcome in spec.outcomes:
            figures.append(result.trends_figure(outcome, palette=palette))
            figures.append(result.effect_figure(outcome, palette=palette, estimators=estimators))
        figure_words = [t for fig in figures for t in figure_texts(fig)]
        parts[lang] = {
            "texts": texts,
            "cells": cells,
            "figures": figure_words,
            "covariates": "\n".join([balance, *love]),
        }
    return parts


@pytest.mark.parametrize("language", LANGUAGES)
def test_register_tables_findings_and_figures_in_one_language(register_parts, language):
    part = register_parts[language]
    assert_in_language("\n".join(part["texts"]), language)
    assert_in_language("\n".join(part["figures"]), language)
    assert_numbers_in_language(part["cells"] + part["figures"], language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_register_balance_table_and_love_plot_in_one_language(register_parts, language):
    # the covariates are named by register_panel.covariate_labels, not by their columns
    covariates = register_parts[language]["covariates"]
    assert_in_language(covariates, language)
    assert "prior_education" not in covariates and "prior_earnings" not in covariates


@pytest.fixture(scope="module")
def toc_parts():
    from evaltools.params.models import Params
    from evaltools.report.brand import load_brand
    from evaltools.results.io import build_document
    from evaltools.results.schema import PrePostRecord
    from evaltools.theory_of_change import targets_table, theory_of_change_figure

    base = _demo_params("da").model_dump(mode="json")
    base["theory_of_change"] = YAML(typ="safe").load(THEORY_OF_CHANGE)["theory_of_change"]
    base["analyses"] = ["prepost"]
    base.pop("register_panel", None)
    blank = dict.fromkeys(PrePostRecord.model_fields, None)
    blank.update(from_occasion="first", to_occasion="last")
    records = {
        "prepost": [
            blank
            | {
                "scale": "anxiety_depression",
                "group": None,
                "n_paired": 104,
                "mean_pre": 2.21,
                "mean_post": 1.87,
                "share_improved": 0.356,
                "suppressed": False,
            },
            blank
            | {
                "scale": "economic_stress",
                "group": None,
                "n_paired": 102,
                "mean_pre": 53.7,
                "mean_post": 47.4,
                "share_improved": 0.17,
                "suppressed": False,
            },
        ]
    }
    parts = {}
    for lang in LANGUAGES:
        params = Params.model_validate({**base, "language": lang})
        results = build_document(params, records, version="0.1.0")
        table = targets_table(params, results)
        words, cells = html_text(table)
        figure = theory_of_change_figure(params, brand=load_brand("default"))
        parts[lang] = {"text": words, "cells": cells, "figure": figure_texts(figure)}
    return parts


@pytest.mark.parametrize("language", LANGUAGES)
def test_theory_of_change_in_one_language(toc_parts, language):
    part = toc_parts[language]
    assert_in_language(part["text"], language)
    assert_in_language("\n".join(part["figure"]), language)
    assert_numbers_in_language(part["cells"], language)
    assert RIGHT_PERCENT[language].search(" ".join(part["cells"]))


# ---------------------------------------------------------------------------
# End-to-end: notebooks executed in both languages, rendered, read back
# ---------------------------------------------------------------------------


def _params_file(folder: Path, language: str) -> Path:
    """The demo grantee in `language`, pre/post only, with a theory of change."""
    yaml = YAML()
    data = yaml.load(DEMO_PARAMS.read_text(encoding="utf-8"))
    data["language"] = language
    data["analyses"] = ["prepost"]
    data.pop("register_panel", None)
    data["prepost"]["data"] = str((ROOT / "data" / "demo" / "familiehuset_nord.csv").resolve())
    data["theory_of_change"] = YAML(typ="safe").load(THEORY_OF_CHANGE)["theory_of_change"]
    path = folder / f"params_{language}.yml"
    with path.open("w", encoding="utf-8") as fh:
        yaml.dump(data, fh)
    return path


def _run_report(folder: str, language: str) -> str:
    """Execute both notebooks for `language` and render the report; return its folder."""
    import datetime as dt

    import nbformat
    import papermill

    from evaltools.params.loading import load_params
    from evaltools.paths import notebooks_dir
    from evaltools.render import ReportMeta, render_report
    from evaltools.render.report_notebook import build_report_notebook
    from evaltools.report.brand import load_brand

    out = Path(folder) / language
    out.mkdir()
    params_file = _params_file(out, language)
    executed = []
    for name in ("theory_of_change.ipynb", "prepost.ipynb"):
        target = out / name
        papermill.execute_notebook(
            str(notebooks_dir() / name),
            str(target),
            parameters={"params_file": str(params_file), "output_dir": None},
            kernel_name="python3",
            progress_bar=False,
            cwd=str(out),
        )
        executed.append(target)
    nbformat.write(build_report_notebook(executed), out / "_report.ipynb")
    params = load_params(params_file)
    meta = ReportMeta.from_params(params, date=dt.date(2026, 11, 22))
    render_report(
        out / "_report.ipynb",
        out,
        brand=load_brand("havblik_fonden"),
        meta=meta,
        renderer="nbconvert",
    )
    return str(out)


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("language")
    with ProcessPoolExecutor(max_workers=2) as pool:
        futures = {lang: pool.submit(_run_report, str(folder), lang) for lang in LANGUAGES}
        return {lang: Path(f.result()) for lang, f in futures.items()}


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("language", LANGUAGES)
def test_rendered_report_in_one_language(reports, language):
    pypdf = pytest.importorskip("pypdf", reason="pypdf is in the test extra")
    from evaltools.params.loading import load_params

    folder = reports[language]
    params = load_params(folder / f"params_{language}.yml")
    allowed = names_in_params(params) | {"aalborg", "hjørring"}
    visible, cells = html_text((folder / "report.html").read_text(encoding="utf-8"))
    assert_in_language(visible, language, allowed=allowed)
    assert_numbers_in_language([c for c in cells if re.search(r"\d", c)], language)
    assert RIGHT_PERCENT[language].search(visible)
    pdf_text = "\n".join(p.extract_text() for p in pypdf.PdfReader(folder / "report.pdf").pages)
    assert_in_language(pdf_text, language, allowed=allowed)
    # the two parts of the report are both there, headed in the language
    headings = {"da": ("Forandringsteori", "Før- og eftermålinger"), "en": ("Theory of change",)}
    for heading in headings[language]:
        assert heading in visible and heading in pdf_text
