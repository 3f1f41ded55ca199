"""The theory of change: its parameters, its diagram and its targets table.

The targets table is checked on hand-made ``results.json`` records whose verdicts follow
from the definitions (a mean at or better than its target is met, in the scale's direction;
a share at or above its target is met; an effect at or beyond its target is met).
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import pytest
from bs4 import BeautifulSoup

from evaltools.errors import DataError, ParamsError
from evaltools.params.loading import load_params
from evaltools.params.models import Params, TheoryOfChange
from evaltools.report.brand import load_brand
from evaltools.results.io import build_document, dumps, read_document
from evaltools.results.schema import PrePostRecord, RegisterRecord, ResultsDocument
from evaltools.theory_of_change import (
    STATUSES,
    target_status,
    targets_table,
    theory_of_change_figure,
)

matplotlib.use("Agg")

SCALES = [
    {
        "name": "anxiety",
        "label": {"da": "Angst", "en": "Anxiety"},
        "items": ["a1", "a2"],
        "range": [1, 4],
        "higher_is_better": False,
    },
    {
        "name": "esteem",
        "label": {"da": "Selvværd", "en": "Self-esteem"},
        "items": ["s1", "s2"],
        "range": [1, 5],
        "higher_is_better": True,
    },
    {
        "name": "stress",
        "label": {"da": "Økonomisk stress", "en": "Economic stress"},
        "score": "stress",
        "range": [1, 100],
        "higher_is_better": False,
        "reliability": 0.8,
    },
    {
        "name": "network",
        "label": {"da": "Netværk", "en": "Network"},
        "score": "network",
        "range": [0, 10],
        "higher_is_better": True,
        "reliability": 0.8,
    },
]

TOC = {
    "activities": ["Rådgivning", {"da": "Gruppeforløb", "en": "Group courses"}],
    "outputs": [{"da": "120 klienter i rådgivning", "en": "120 clients counselled"}],
    "outcomes": [
        {
            "name": "calmer",
            "label": {"da": "Mindre angst", "en": "Less anxiety"},
            "term": "short",
            "leads_to": ["independent", "included"],
            "indicators": [
                {
                    "analysis": "prepost",
                    "scale": "anxiety",
                    "baseline": 2.4,
                    "target": 1.9,
                    "target_share_improved": 0.30,
                }
            ],
        },
        {
            "name": "esteem",
            "label": {"da": "Bedre selvværd", "en": "Better self-esteem"},
            "term": "short",
            "leads_to": ["independent"],
            "indicators": [
                {"analysis": "prepost", "scale": "esteem", "target": 3.5},
                {"analysis": "prepost", "scale": "network"},
            ],
        },
        {
            "name": "independent",
            "label": {"da": "Et selvstændigt liv", "en": "An independent life"},
            "term": "long",
            "indicators": [
                {
                    "analysis": "register_panel",
                    "outcome": "in_education",
                    "share": True,
                    "baseline": 0.18,
                    "target": 0.05,
                },
                {
                    "analysis": "register_panel",
                    "outcome": "employed",
                    "estimator": "event_study",
                    "event_time": 2,
                    "target": 0.03,
                },
            ],
        },
        {
            "name": "included",
            "label": {"da": "Social inklusion", "en": "Social inclusion"},
            "term": "long",
            "indicators": [{"analysis": "prepost", "scale": "stress", "target": 45}],
        },
        {
            "name": "unmeasured",
            "label": {"da": "Tryghed for børnene", "en": "Safety for the children"},
            "term": "long",
        },
    ],
}


def _params(toc: dict | None = None, *, language: str = "da", **overrides) -> Params:
    data = {
        "grantee": "Familiehuset Nord",
        "intervention": "Ud af voldens skygge",
        "period": "2025",
        "language": language,
        "analyses": ["prepost", "register_panel"],
        "prepost": {"data": "clients.csv", "scales": SCALES},
        "register_panel": {
            "data": "panel.parquet",
            "outcomes": ["in_education", "employed"],
            "outcome_labels": {"in_education": {"da": "I uddannelse", "en": "In education"}},
        },
        "theory_of_change": TOC if toc is None else toc,
        **overrides,
    }
    return Params.model_validate(data)


def _prepost(scale, **values):
    """A full prepost record of the schema: the given values, the other statistics null."""
    record = dict.fromkeys(PrePostRecord.model_fields)
    record.update(scale=scale, from_occasion="first", to_occasion="last", n_paired=104)
    record.update(suppressed=False)
    return {**record, **values}


def _register(outcome, estimator, event_time, estimate, n=399):
    """A full register_panel record of the schema."""
    record = dict.fromkeys(RegisterRecord.model_fields)
    record.update(outcome=outcome, estimator=estimator, event_time=event_time)
    return {**record, "estimate": estimate, "n_treated": n, "n_comparison": n}


def _document(records: dict, params: Params | None = None) -> ResultsDocument:
    """The results.json the writer builds for `params` holding `records`."""
    return build_document(params or _params(), records, version="0.1.0")


RECORDS = {
    "prepost": [
        # anxiety: lower is better; mean 1.90 sits exactly on the target 1.90 -> met;
        # share 0.30 exactly on 0.30 -> met
        _prepost("anxiety", mean_pre=2.21, mean_post=1.90, share_improved=0.30),
        # a group's record of the same scale must not be used
        _prepost(
            "anxiety", group={"phase": "aftercare"}, mean_pre=3.9, mean_post=3.9, share_improved=0
        ),
        # self-esteem: higher is better; 3.34 < 3.5 -> not met
        _prepost("esteem", mean_pre=3.07, mean_post=3.34, share_improved=0.14),
        # network: too few clients -> suppressed (no numbers at all)
        _prepost("network", n_paired=None, suppressed=True),
        # economic stress: lower is better; 47.4 > 45 -> not met
        _prepost("stress", mean_pre=53.7, mean_post=47.4, share_improved=0.17),
    ],
    "register_panel": [
        _register("in_education", "did", None, 0.066),  # 0.066 >= 0.05 -> met
        _register("in_education", "twfe", None, 0.001),  # another estimator: not used
        _register("employed", "event_study", None, 0.5),  # the overall entry: not used
        _register("employed", "event_study", 2, 0.01),  # year 2: 0.01 < 0.03 -> not met
    ],
}


RESULTS = _document(RECORDS)


@pytest.fixture(scope="module")
def table():
    return targets_table(_params(), RESULTS)


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------


def test_valid_theory_of_change_is_read():
    toc = _params().theory_of_change
    assert isinstance(toc, TheoryOfChange)
    assert toc.activities[0].da == toc.activities[0].en == "Rådgivning"  # plain text: both
    assert [o.term for o in toc.outcomes] == ["short", "short", "long", "long", "long"]
    indicator = toc.outcomes[2].indicators[1]
    assert (indicator.measure, indicator.estimator, indicator.event_time) == (
        "employed",
        "event_study",
        2,
    )


def test_params_without_theory_of_change_are_still_valid():
    params = _params(toc={}, theory_of_change=None)
    assert params.theory_of_change is None


def _bad(change) -> dict:
    toc = json.loads(json.dumps(TOC))
    change(toc)
    return toc


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda t: t["outcomes"][0]["indicators"][0].update(scale="angst"),
            r"outcomes\[0\]\.indicators\[0\]: scale 'angst' is not in `prepost.scales` "
            r"\['anxiety', 'esteem', 'stress', 'network'\]",
        ),
        (
            lambda t: t["outcomes"][2]["indicators"][0].update(outcome="earnings"),
            r"outcome 'earnings' is not in `register_panel.outcomes`",
        ),
        (
            lambda t: t["outcomes"][0]["indicators"][0].update(outcome="employed"),
            r"a `prepost` indicator names a `scale` \(and no `outcome`\)",
        ),
        (
            lambda t: t["outcomes"][2]["indicators"][0].update(target_share_improved=0.5),
            r"`target_share_improved` applies to `prepost` indicators only",
        ),
        (
            lambda t: t["outcomes"][1]["indicators"][0].update(estimator="did"),
            r"\['estimator'\] apply to `register_panel` indicators only",
        ),
        (
            lambda t: t["outcomes"][2]["indicators"][0].update(event_time=1),
            r"`event_time` needs `estimator` one of \['event_study', 'staggered_dynamic'\]",
        ),
        (
            lambda t: t["outcomes"][0].update(leads_to=["esteem"]),
            r"`leads_to` \['esteem'\] are not long-term outcomes; long-term outcomes: "
            r"\['independent', 'included', 'unmeasured'\]",
        ),
        (
            lambda t: t["outcomes"][3].update(leads_to=["independent"]),
            r"'included': only short-term outcomes have `leads_to`",
        ),
        (
            lambda t: t["outcomes"][1].update(name="calmer"),
            r"outcome names must be unique, \['calmer'\] appear more than once",
        ),
        (lambda t: t["outcomes"][1].update(term="medium"), r"term"),
        (
            lambda t: t["outcomes"][0]["indicators"][0].update(target_share_improved=1.5),
            r"less than or equal to 1",
        ),
        (lambda t: t.update(activities=[]), r"at least 1 item"),
    ],
)
def test_invalid_theory_of_change_is_rejected(change, message):
    with pytest.raises(ValueError, match=message):
        _params(_bad(change))


def test_indicator_of_an_analysis_not_run_is_rejected():
    with pytest.raises(ValueError, match=r"analysis 'register_panel' is not in `analyses`"):
        _params(analyses=["prepost"], register_panel=None)


def test_load_params_names_file_line_and_key(tmp_path):
    text = """\
grantee: Fonden
intervention: Indsats
period: "2025"
analyses: [prepost]
prepost:
  data: clients.csv
  scales:
    - {name: anxiety, label: Angst, items: [a1], range: [1, 4], higher_is_better: false}
theory_of_change:
  activities: [Rådgivning]
  outputs: [Samtaler]
  outcomes:
    - name: calmer
      label: Mindre angst
      term: short
      indicators:
        - {analysis: prepost, scale: angst}
"""
    path = tmp_path / "params.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        load_params(path)
    message = str(info.value)
    assert str(path) in message
    assert "line 9" in message  # the `theory_of_change:` key
    assert "'theory_of_change'" in message
    assert "scale 'angst' is not in `prepost.scales` ['anxiety']" in message


# ---------------------------------------------------------------------------
# Targets: met / not met / too few, on hand-made records
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "target", "higher", "suppressed", "expected"),
    [
        (1.87, 1.90, False, False, "met"),  # lower is better, below the target
        (1.90, 1.90, False, False, "met"),  # on the target counts as met
        (1.91, 1.90, False, False, "not_met"),
        (3.34, 3.50, True, False, "not_met"),
        (3.50, 3.50, True, False, "met"),
        (None, 3.50, True, True, "suppressed"),
        (None, 3.50, True, False, "missing"),
        (2.0, None, True, False, "no_target"),
        (float("nan"), 1.0, True, False, "missing"),
    ],
)
def test_target_status(result, target, higher, suppressed, expected):
    assert target_status(result, target, higher_is_better=higher, suppressed=suppressed) == expected


def test_targets_table_rows_and_verdicts(table):
    frame = table.table.astype(object).where(table.table.notna(), None)
    got = list(
        zip(frame["outcome"], frame["indicator"], frame["measure"], frame["status"], strict=True)
    )
    assert got == [
        ("calmer", "anxiety", "mean_post", "met"),
        ("calmer", "anxiety", "share_improved", "met"),
        ("esteem", "esteem", "mean_post", "not_met"),
        ("esteem", "network", "mean_post", "suppressed"),
        ("independent", "in_education", "effect", "met"),
        ("independent", "employed", "effect", "not_met"),
        ("included", "stress", "mean_post", "not_met"),
        ("unmeasured", None, None, "missing"),
    ]
    assert set(frame["status"]) <= set(STATUSES)


def test_targets_table_values(table):
    frame = table.table.set_index(["indicator", "measure"])
    anxiety = frame.loc[("anxiety", "mean_post")]
    # the baseline given in the theory of change wins over the measured mean_pre
    assert (anxiety["baseline"], anxiety["target"], anxiety["result"]) == (2.4, 1.9, 1.9)
    assert anxiety["n"] == 104 and not anxiety["higher_is_better"]
    share = frame.loc[("anxiety", "share_improved")]
    assert (share["target"], share["result"]) == (0.30, 0.30)
    # no baseline given: the measured mean at the first occasion
    assert frame.loc[("esteem", "mean_post")]["baseline"] == 3.07
    network = frame.loc[("network", "mean_post")]
    assert network[["baseline", "result", "n"]].isna().all()
    education = frame.loc[("in_education", "effect")]
    assert (education["result"], education["n"], education["share"]) == (0.066, 399, True)
    employed = frame.loc[("employed", "effect")]
    assert employed["result"] == 0.01  # the year-2 event-study estimate, not the overall one


def test_lower_is_better_register_outcome_flips_the_verdict():
    toc = _bad(lambda t: t["outcomes"][2]["indicators"][0].update(higher_is_better=False))
    frame = targets_table(_params(toc), RESULTS).table
    row = frame[frame["indicator"] == "in_education"].iloc[0]
    assert row["status"] == "not_met"  # 0.066 is above 0.05: bad when lower is better


def test_missing_results_are_reported_not_guessed():
    frame = targets_table(_params(), _document({"prepost": [], "register_panel": []})).table
    measured = frame[frame["indicator"].notna()]
    assert set(measured["status"]) == {"missing"}
    assert measured["result"].isna().all()


def test_counts_and_summary(table):
    assert table.counts() == {
        "met": 3,
        "not_met": 3,
        "suppressed": 1,
        "no_target": 0,
        "missing": 1,
    }
    assert table.summary_sentence() == "3 af 6 mål er nået."
    english = targets_table(_params(language="en"), RESULTS)
    assert english.summary_sentence() == "3 of 6 targets were met."


def test_display_in_danish_and_english(table):
    frame = table.display_frame()
    assert list(frame.columns) == [
        "Forandring",
        "Indikator",
        "Udgangspunkt",
        "Mål",
        "Resultat",
        "n",
        "Status",
    ]
    rows = {r["Indikator"]: r for r in frame.to_dict("records")}
    anxiety = rows["Angst (1–4): gennemsnit ved sidste måling"]
    assert (anxiety["Udgangspunkt"], anxiety["Mål"], anxiety["Resultat"]) == (
        "2,40",
        "1,90",
        "1,90",
    )
    assert anxiety["Status"] == "Nået"
    assert rows["Angst (1–4): andel med pålidelig forbedring"]["Mål"] == "30 %"
    stress = rows["Økonomisk stress (1–100): gennemsnit ved sidste måling"]
    assert (stress["Udgangspunkt"], stress["Resultat"]) == ("53,7", "47,4")  # one decimal
    education = rows["I uddannelse: effekt, forskel-i-forskelle"]
    assert (education["Udgangspunkt"], education["Mål"], education["Resultat"]) == (
        "18 %",
        "+5,0 procentpoint",
        "+6,6 procentpoint",
    )
    assert rows["employed: effekt, hændelsesstudie, år 2 efter start"]["Resultat"] == "+0,01"
    network = rows["Netværk (0–10): gennemsnit ved sidste måling"]
    assert (network["Resultat"], network["n"], network["Status"]) == (
        "–",
        "–",
        "For få til at vise",
    )
    english = targets_table(_params(language="en"), RESULTS).display_frame()
    assert list(english.columns)[:3] == ["Outcome", "Indicator", "Baseline"]
    rows = {r["Indicator"]: r for r in english.to_dict("records")}
    education = rows["In education: effect, difference-in-differences"]
    assert (education["Baseline"], education["Result"]) == ("18%", "+6.6 pp")
    assert rows["Anxiety (1–4): mean at the last measurement"]["Status"] == "Met"


def test_html_groups_outcomes_and_marks_status(table):
    soup = BeautifulSoup(table.to_html(), "html.parser")
    html_table = soup.find("table")
    assert "evaltools-toc-targets" in html_table["class"]
    assert html_table.caption.get_text() == "Indikatorer og mål pr. forandring"
    outcomes = html_table.select("th.toc-outcome")
    assert [th.get_text(" ", strip=True) for th in outcomes] == [
        "Mindre angst kort sigt",
        "Bedre selvværd kort sigt",
        "Et selvstændigt liv lang sigt",
        "Social inklusion lang sigt",
        "Tryghed for børnene lang sigt",
    ]
    assert [int(th["rowspan"]) for th in outcomes] == [2, 2, 2, 1, 1]
    statuses = [s["class"][1] for s in html_table.select("span.toc-status")]
    assert statuses == [f"toc-status--{s}" for s in table.table["status"]]
    assert "Resultater for færre end 5 klienter vises ikke" in html_table.tfoot.get_text()
    assert table._repr_html_() == table.to_html()


def test_without_theory_of_change_the_table_is_empty():
    empty = targets_table(_params(toc={}, theory_of_change=None), RESULTS)
    assert empty.table.empty
    assert empty.summary_sentence() == "Forandringsteorien sætter ingen mål, som kan vurderes."


def test_targets_read_results_json_through_the_schema(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(dumps(RESULTS.json_data()), encoding="utf-8")
    again = targets_table(_params(), read_document(path)).table
    assert again.equals(targets_table(_params(), RESULTS).table)
    path.write_text("{broken", encoding="utf-8")
    with pytest.raises(DataError, match=r"results\.json: not valid JSON"):
        read_document(path)
    path.write_text(dumps({**RESULTS.json_data(), "schema_version": 7}), encoding="utf-8")
    with pytest.raises(DataError, match=r"results\.json: results\.json schema version 7 is not"):
        read_document(path)


# ---------------------------------------------------------------------------
# The diagram
# ---------------------------------------------------------------------------


def _boxes(fig, column: str | None = None):
    ax = fig.axes[0]
    prefix = "toc-box-" + (f"{column}-" if column else "")
    return [p for p in ax.patches if (p.get_gid() or "").startswith(prefix)]


def _arrows(fig):
    return sorted(
        p.get_gid() for p in fig.axes[0].patches if (p.get_gid() or "").startswith("toc-arrow")
    )


def _texts(fig) -> str:
    return " ".join(t.get_text().replace("\n", " ") for t in fig.axes[0].texts)


@pytest.fixture(scope="module")
def figure():
    return theory_of_change_figure(_params(), brand=load_brand("nordlys_fonden"))


def test_diagram_has_one_box_per_entry_in_four_columns(figure):
    assert len(figure.axes) == 1
    counts = {c: len(_boxes(figure, c)) for c in ("activities", "outputs", "short", "long")}
    assert counts == {"activities": 2, "outputs": 1, "short": 2, "long": 3}
    assert len(_boxes(figure)) == 8
    lefts = {c: {round(b.get_x(), 6) for b in _boxes(figure, c)} for c in counts}
    assert all(len(x) == 1 for x in lefts.values())  # each column's boxes are aligned
    xs = [lefts[c].pop() for c in ("activities", "outputs", "short", "long")]
    assert xs == sorted(xs)  # left to right in the order of the theory


def test_diagram_arrows_follow_the_theory(figure):
    assert _arrows(figure) == [
        "toc-arrow-activities-outputs",
        "toc-arrow-calmer-included",
        "toc-arrow-calmer-independent",
        "toc-arrow-esteem-independent",
        "toc-arrow-outputs-short",
    ]


def test_diagram_texts_in_danish(figure):
    shown = _texts(figure)
    for expected in (
        "Aktiviteter",
        "Leverancer",
        "Forandringer på kort sigt",
        "Forandringer på lang sigt",
        "Rådgivning",
        "Gruppeforløb",
        "120 klienter i rådgivning",
        "Mindre angst",
        "Et selvstændigt liv",
        "Måles ved: Angst (1–4)",
        "I uddannelse",
    ):
        assert expected in shown, expected
    assert "Activities" not in shown


def test_diagram_texts_fit_inside_their_boxes(figure):
    renderer = figure.canvas.get_renderer()
    boxes = [b.get_window_extent(renderer) for b in _boxes(figure)]
    inside = 0
    for text in figure.axes[0].texts:
        extent = text.get_window_extent(renderer)
        holders = [b for b in boxes if b.x0 <= extent.x0 < b.x1 and b.y0 <= extent.y1 <= b.y1]
        for box in holders:
            assert extent.x1 <= box.x1 + 0.5 and extent.y0 >= box.y0 - 0.5, text.get_text()
            inside += 1
    assert inside == 8 + 4  # every box title, and the notes of the four measured outcomes


def test_diagram_uses_brand_colours(figure):
    brand = load_brand("nordlys_fonden")
    long_fill = {
        matplotlib.colors.to_hex(b.get_facecolor()).upper() for b in _boxes(figure, "long")
    }
    assert long_fill == {brand.primary}
    edges = {matplotlib.colors.to_hex(b.get_edgecolor()).upper() for b in _boxes(figure, "short")}
    assert edges == {brand.accent}


def test_diagram_in_english_without_links_or_long_term_outcomes():
    toc = _bad(lambda t: t.update(outcomes=[o for o in t["outcomes"] if o["term"] == "short"]))
    for outcome in toc["outcomes"]:
        outcome.pop("leads_to")
    fig = theory_of_change_figure(_params(toc, language="en"), brand=load_brand("default"))
    assert len(_boxes(fig, "long")) == 0
    assert _arrows(fig) == ["toc-arrow-activities-outputs", "toc-arrow-outputs-short"]
    shown = _texts(fig)
    assert "Short-term outcomes" in shown and "Long-term outcomes" not in shown
    assert "Group courses" in shown and "Measured by: Anxiety (1–4)" in shown


def test_diagram_needs_a_theory_of_change():
    with pytest.raises(ParamsError, match="no `theory_of_change` to draw"):
        theory_of_change_figure(_params(toc={}, theory_of_change=None))


# ---------------------------------------------------------------------------
# The report section: the notebook, run as the pipeline runs it
# ---------------------------------------------------------------------------


@pytest.mark.e2e
def test_notebook_opens_the_report_with_diagram_and_table(tmp_path):
    import nbformat
    from ruamel.yaml import YAML

    from evaltools.errors import ExecutionError
    from evaltools.render.report_notebook import build_report_notebook
    from evaltools.run.execute import kernel_name
    from evaltools.theory_of_change import execute_theory_of_change

    root = Path(__file__).resolve().parents[2]
    yaml = YAML(typ="safe")
    data = yaml.load((root / "params" / "demo" / "familiehuset_nord.yml").read_text("utf-8"))
    data.update(analyses=["prepost"], brand="havblik_fonden")
    data.pop("register_panel", None)
    data["prepost"]["data"] = str(root / "data" / "demo" / "familiehuset_nord.csv")
    toc = json.loads(json.dumps(TOC))
    toc["outcomes"] = [o for o in toc["outcomes"] if o["name"] in ("calmer", "unmeasured")]
    toc["outcomes"][0]["indicators"][0]["scale"] = "anxiety_depression"
    toc["outcomes"][0]["leads_to"] = ["unmeasured"]
    data["theory_of_change"] = toc
    params_file = tmp_path / "params.yml"
    with params_file.open("w", encoding="utf-8") as handle:  # closed: written out
        yaml.dump(data, handle)
    records = {
        "prepost": [_prepost("anxiety_depression", mean_pre=2.2, mean_post=1.8, share_improved=0.2)]
    }
    results = _document(records, load_params(params_file))
    (tmp_path / "results.json").write_text(dumps(results.json_data()), encoding="utf-8")
    workdir = tmp_path / "work"
    workdir.mkdir()

    executed = execute_theory_of_change(
        params_file, tmp_path / "results.json", workdir=workdir, kernel=kernel_name()
    )
    assert executed == workdir / "theory_of_change.ipynb"
    cells = build_report_notebook([executed]).cells
    markdown = [c.source for c in cells if c.cell_type == "markdown"]
    assert markdown[0].startswith(
        "# Forandringsteori\n\nUd af voldens skygge bygger på en forandringsteori"
    )
    assert markdown[1].startswith("## Mål og resultater")
    assert "1 af 2 mål er nået." in markdown[1]  # mean 1.8 <= 1.9 met; share 0.2 < 0.3 not
    outputs = [o for c in cells if c.cell_type == "code" for o in c.outputs]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1
    captions = [o["data"]["text/markdown"] for o in outputs if "text/markdown" in o.get("data", {})]
    assert captions == [
        "*Forandringsteori for Ud af voldens skygge. Pilene viser, hvad der skal føre til hvad.*"
    ]
    tables = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert (
        len(tables) == 1 and "toc-status--met" in tables[0] and "toc-status--not_met" in tables[0]
    )
    assert nbformat.read(executed, as_version=4).metadata["papermill"]["parameters"] == {
        "params_file": str(params_file),
        "results_file": str(tmp_path / "results.json"),
        "output_dir": str(workdir),
    }

    (tmp_path / "results.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(
        ExecutionError, match=r"theory_of_change.ipynb failed in cell \d+: DataError"
    ):
        execute_theory_of_change(
            params_file, tmp_path / "results.json", workdir=workdir, kernel=kernel_name()
        )
