"""Starting a new grantee: what ``evaltools new`` writes.

:func:`new_params` writes a commented parameter file for a new grantee (every key explained,
in Danish or English), or copies another grantee's file with the new name. (What a grantee's
data hold is counted by :func:`evaltools.data.quality.data_quality`.)
"""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from evaltools.atomic import write_bytes_atomic
from evaltools.choices import LANGUAGES, check_choice
from evaltools.errors import ParamsError
from evaltools.params.models import ReadOptions, slugify

# --------------------------------------------------------------------------- new parameters

# One comment per key, in Danish and English. The template below refers to them as «key».
_COMMENTS: dict[str, tuple[str, str]] = {
    "head": (
        "Parameterfil for {grantee}, skrevet af `evaltools new`.\n"
        "Hver nøgle er forklaret i en kommentar; den fulde reference er docs/params.md.\n"
        "Udfyld det, der er markeret, og tjek filen og dataene med:\n"
        "  evaltools validate {filename}",
        "Parameter file for {grantee}, written by `evaltools new`.\n"
        "Every key is explained in a comment; the full reference is docs/params.md.\n"
        "Fill in what is marked, then check the file and the data with:\n"
        "  evaltools validate {filename}",
    ),
    "grantee": (
        "organisationens navn, vises i rapporten",
        "organisation name, shown on the report",
    ),
    "intervention": (
        "indsatsen (programmet), der evalueres: UDFYLD",
        "the intervention (programme) evaluated: FILL IN",
    ),
    "period": (
        "perioden, rapporten dækker (fri tekst)",
        "the period the report covers (free text)",
    ),
    "slug": (
        "rapportens mappe: reports/<slug>/ (små bogstaver, tal, - og _)",
        "report folder: reports/<slug>/ (lower-case letters, digits, - and _)",
    ),
    "brand": ("en mappe under templates/brands/", "a folder under templates/brands/"),
    "language": ("rapportens sprog: da eller en", "report language: da or en"),
    "min_cell_size": (
        "skjul tal og statistik over færre personer end dette",
        "hide any count or statistic over fewer people than this",
    ),
    "analyses": (
        "analyser: prepost og/eller register_panel (hver med sin sektion nedenfor)",
        "analyses: prepost and/or register_panel (each with its section below)",
    ),
    "prepost": (
        "Før/efter (indikatorsystem): én række pr. klient x målepunkt.",
        "Pre/post (indicator system): one row per client x measurement occasion.",
    ),
    "data": (
        "Datafilen: CSV, Excel (.xlsx), Parquet, SPSS (.sav), Stata (.dta) eller SAS\n"
        "(.sas7bdat). En relativ sti søges ved siden af denne fil og i mapperne over den.",
        "The data file: CSV, Excel (.xlsx), Parquet, SPSS (.sav), Stata (.dta) or SAS\n"
        "(.sas7bdat). A relative path is looked for beside this file and in the folders above.",
    ),
    "read": (
        "Separator, decimaltegn og tegnsæt findes automatisk; er det forkert, så angiv dem\n"
        "(sheet: Excel-arkets navn eller nummer fra 0):",
        "Separator, decimal mark and encoding are detected; if that goes wrong, give them\n"
        "(sheet: the Excel sheet's name or number from 0):",
    ),
    "id": (
        "kolonnen med klientens id (vises aldrig i en rapport)",
        "column identifying a client (never shown in a report)",
    ),
    "occasion": (
        "kolonnen med målepunkt 1, 2, 3, ...",
        "column numbering the measurements 1, 2, 3, ...",
    ),
    "date": (
        "kolonnen med datoen for hver måling (valgfri)",
        "column with each measurement's date (optional)",
    ),
    "groups": (
        "kolonner, resultaterne deles op efter, fx [afdeling, fase]",
        "columns to break results down by, e.g. [department, phase]",
    ),
    "group_labels": (
        "overskrifter for gruppekolonnerne på rapportens sprog (valgfri)",
        "headings for the group columns in the report's languages (optional)",
    ),
    "value_labels": (
        "tekster for koderne i gruppekolonnerne (valgfri)",
        "labels for the codes in the group columns (optional)",
    ),
    "compare": (
        "målepunkter, der sammenlignes: first, last eller et tal, fx [1, 2]",
        "occasions to compare: first, last or a number, e.g. [1, 2]",
    ),
    "scales": (
        "Én post pr. skala. Angiv enten `items` (kolonner, hvis gennemsnit giver scoren) eller\n"
        "`score` (én kolonne med en færdig score).",
        "One entry per scale. Give either `items` (columns averaged into a score) or `score`\n"
        "(one column holding a ready score).",
    ),
    "name": ("skalaens navn: bogstaver, tal og _", "the scale's name: letters, digits and _"),
    "label": ("skalaens navn i rapporten", "the scale's name in the report"),
    "area": (
        "udfaldsområdet, skalaen hører til (valgfri)",
        "the outcome area the scale belongs to (optional)",
    ),
    "items": (
        "kolonnerne med skalaens spørgsmål: UDFYLD",
        "the columns of the scale's items: FILL IN",
    ),
    "score": ("eller: én kolonne med en færdig score", "or: one column holding a ready score"),
    "reverse_items": (
        "spørgsmål formuleret omvendt; vendes før gennemsnittet",
        "items worded the other way round; recoded before averaging",
    ),
    "range": ("laveste og højeste mulige svar", "lowest and highest possible answer"),
    "higher_is_better": (
        "false: et fald tæller som forbedring (fx angst, stress)",
        "false: a decrease counts as improvement (e.g. anxiety, stress)",
    ),
    "reliability": (
        "reliabilitet til reliable change index; udelades: Cronbachs alfa fra dataene",
        "reliability for the reliable change index; left out: Cronbach's alpha from the data",
    ),
    "min_items_answered": (
        "andel af spørgsmålene, der skal være besvaret for at få en score",
        "share of the items a client must answer to get a score",
    ),
    "cutoff": (
        "klinisk grænse; giver klinisk signifikant ændring (valgfri)",
        "clinical cutoff; enables clinically significant change (optional)",
    ),
    "register_panel": (
        "Registerpanel (deltagere mod en sammenligningsgruppe): én række pr. person x år.\n"
        "Fjern # foran linjerne og tilføj register_panel under `analyses` for at bruge den.",
        "Register panel (participants vs a comparison group): one row per person x year.\n"
        "Remove the # before the lines and add register_panel to `analyses` to use it.",
    ),
    "rp_data": (
        "Parquet eller CSV; store udtræk læses med DuckDB",
        "Parquet or CSV; large extracts are read with DuckDB",
    ),
    "rp_id": ("kolonnen med personens id", "column identifying a person"),
    "time": ("kolonnen med året", "column with the year"),
    "start": (
        "året, personen startede i indsatsen (tom/0 for sammenligningspuljen)",
        "the year the person started (empty/0 for the comparison pool)",
    ),
    "outcomes": ("udfaldskolonner, fx 0/1", "outcome columns, e.g. 0/1"),
    "outcome_labels": ("udfaldenes navne i rapporten", "the outcomes' names in the report"),
    "covariates": (
        "baggrundsvariable til propensity score-matchningen",
        "baseline covariates for the propensity score matching",
    ),
    "covariate_labels": (
        "baggrundsvariablenes navne i balancetabellen",
        "the covariates' names in the balance table",
    ),
    "matching": (
        "method: propensity eller none; caliper på propensity score; ratio 1:k; replace;\n"
        "exact: kolonner, der matches eksakt på; seed: startværdi for tilfældighed",
        "method: propensity or none; caliper on the propensity score; ratio 1:k; replace;\n"
        "exact: columns matched exactly; seed: random seed",
    ),
    "event_window": (
        "år før og efter start i event study (første <= -2, sidste >= 0)",
        "years before and after start in the event study (first <= -2, last >= 0)",
    ),
    "estimators": ("did, event_study og/eller staggered", "did, event_study and/or staggered"),
    "control_group": (
        "sammenligning for staggered: never_treated eller not_yet_treated",
        "comparison for staggered: never_treated or not_yet_treated",
    ),
    "never_started": (
        "personer, der aldrig startede: empty (tom start) eller zero (0 eller tom)",
        "persons who never started: empty (no start) or zero (0 or no start)",
    ),
    "panel": (
        "staggered: balanced (kun personer set alle år, som R did) eller available",
        "staggered: balanced (only persons seen every year, as R did) or available",
    ),
    "missing": (
        "manglende værdier: drop (udelad og tæl) eller fail (stop)",
        "missing values: drop (leave out and count) or fail (stop)",
    ),
}

_TEMPLATE = """\
{head}

grantee: {grantee_q}  # «grantee»
intervention: "{intervention}"  # «intervention»
period: "{year}"  # «period»
slug: {slug}  # «slug»
brand: default  # «brand»
language: {language}  # «language»
min_cell_size: 5  # «min_cell_size»
analyses: [prepost]  # «analyses»

# «prepost»
prepost:
  # «data»
  data: data/{file_stem}.csv
  # «read»
  # read: {read_example}
  id: client_id  # «id»
  occasion: measurement  # «occasion»
  # date: date  # «date»
  groups: []  # «groups»
  # group_labels:  # «group_labels»
  #   department: {{da: "Afdeling", en: "Department"}}
  # value_labels:  # «value_labels»
  #   phase:
  #     1: {{da: "Rådgivning", en: "Counselling"}}
  #     2: {{da: "Gruppeforløb", en: "Group course"}}
  compare: [first, last]  # «compare»
  # «scales»
  scales:
    - name: wellbeing  # «name»
      label: {{da: "Trivsel", en: "Well-being"}}  # «label»
      # area: {{da: "Trivsel", en: "Well-being"}}  # «area»
      items: [item1, item2, item3]  # «items»
      # score: wellbeing_score  # «score»
      # reverse_items: [item3]  # «reverse_items»
      range: [1, 5]  # «range»
      higher_is_better: true  # «higher_is_better»
      # reliability: 0.85  # «reliability»
      # min_items_answered: 0.5  # «min_items_answered»
      # cutoff: 2.5  # «cutoff»
      # cutoff_source: {{da: "Skalaens manual", en: "The manual"}}  # where the cutoff is from
      # progression: minimal_important_difference  # reliable_change | any_change | ...
      # minimal_important_difference: 1  # scale points that count as a small step

# The indicator system (optional, under prepost:): change inside each phase, client
# statistics, yes/no questions, survey exports. Every key is explained in docs/params.md.
#   phases:
#     column: phase           # the phase of each measurement (or occasions: {{p1: [1, 2]}})
#     moment: moment          # before or after
#     before: before
#     after: after
#     order: [counselling, group_course]
#     labels: {{counselling: {{da: "Rådgivning", en: "Counselling"}}}}
#     split_by: [variant, department]   # two-way splits with the phase
#   progression: reliable_change        # or any_change, minimal_important_difference
#   indicators: true                    # the indicator part also without phases/clients/items
#   clients:
#     by: variant
#     start: start_date
#     end: end_date
#     period: [2025-01-01, 2025-12-31]
#     background:
#       - column: age
#         label: {{da: "Alder", en: "Age"}}
#         bands: [18, 25, 35, 45]
#         values: {{}}                   # labels of codes, e.g. {{"1": {{da: "Ja", en: "Yes"}}}}
#   items:
#     - name: child_play
#       label: {{da: "Har dit barn leget med andre børn?", en: "Did your child play with others?"}}
#       kind: yes_no                     # yes_no | likert
#       higher_is_better: true
#       answers:
#         - {{value: 1, label: {{da: "Ja", en: "Yes"}}}}
#         - {{value: 2, label: {{da: "Nej", en: "No"}}}}
#   survey:
#     waves: {{1: data/wave1.xlsx, 2: data/wave2.xlsx}}   # or wide: "{{item}}_t{{wave}}"

# Theory of change (optional): activities -> outputs -> short- and long-term outcomes, each
# outcome measured by indicators with targets; the report opens with its diagram. Remove the
# # before the lines to use it; every key is explained in docs/params.md.
# theory_of_change:
#   activities: [{{da: "Rådgivning", en: "Counselling"}}]
#   outputs: [{{da: "100 klienter i rådgivning", en: "100 clients in counselling"}}]
#   outcomes:
#     - name: better_wellbeing
#       label: {{da: "Bedre trivsel", en: "Better well-being"}}
#       term: short          # short | long
#       leads_to: []         # names of long-term outcomes this one leads to
#       indicators:
#         - analysis: prepost       # prepost (a scale) | register_panel (an outcome)
#           scale: wellbeing        # prepost: a scale's name
#           # outcome: in_education   # for a register_panel indicator: an outcome column
#           # label: {{da: "Trivsel", en: "Well-being"}}
#           # baseline: 2.5          # the level before, in the indicator's units
#           target: 3.5             # mean aimed for at the last measurement
#           target_share_improved: 0.3   # share of clients with a reliable improvement
#           # estimator: did  # event_time: 3  # higher_is_better: true  # share: true

# Monitoring cycle (optional): which dates and clients the report covers, trends per quarter,
# and reports per level beside the default report (needs `date:` above). Keys: docs/params.md.
# cycle:
#   as_of: 2025-06-30        # measurements dated later are ignored (default: the latest date)
#   period: 2025-Q2          # 2025, 2025-Q2, 2025-05 or {{from: 2025-01-01, to: 2025-06-30}}
#                            # (start: and end: are the same as from: and to:; label: its name)
#   clients: closed          # closed (in the period) | active | all
#   trend: quarter           # quarter | month | year
#   course:                  # a course is closed when any rule in `when` holds
#     when: [status, last_occasion, inactive]
#     status_column: status  # a column with each course's status (optional)
#     closed_values: [afsluttet, closed]
#     inactive_days: 180     # no measurement for this many days
#     last_occasion: 4       # the last planned measurement (default: the highest in the data)
#     interval_days: 91      # planned days between measurements (measurements due)
# levels: [board, steering, team]   # reports per level in reports/<slug>/levels/<level>/
# comments:                  # the organisation's own words beside the results (shown as text)
#   report: {{da: "Vores kommentar", en: "Our comment"}}
#   sections: {{trend: "Flere klienter i år"}}   # summary, clients, trend, departments, ...
#   file: comments.md        # or a Markdown file: "## trend" starts a section's comment
# previous_rounds: [../reports-2024/]   # last round's results.json, or its reports folder

# «register_panel»
# register_panel:
#   data: data/{file_stem}_register.parquet  # «rp_data»
#   id: person_id  # «rp_id»
#   time: year  # «time»
#   start: start_year  # «start»
#   outcomes: [in_education, employed]  # «outcomes»
#   outcome_labels:  # «outcome_labels»
#     in_education: {{da: "I uddannelse", en: "In education"}}
#     employed: {{da: "I beskæftigelse", en: "Employed"}}
#   covariates: [age, children, prior_education, prior_earnings]  # «covariates»
#   covariate_labels:  # «covariate_labels»
#     age: {{da: "Alder", en: "Age"}}
#     children: {{da: "Antal børn", en: "Number of children"}}
#   # «matching»
#   matching:
#     method: propensity
#     caliper: 0.05
#     ratio: 1
#     replace: false
#     exact: [start_year]
#     seed: 20140101
#   event_window: [-3, 3]  # «event_window»
#   estimators: [did, event_study, staggered]  # «estimators»
#   control_group: never_treated  # «control_group»
#   staggered_se: analytic  # analytic | bootstrap standard errors of the staggered estimator
#   n_boot: 999  # bootstrap draws when staggered_se: bootstrap
#   never_started: empty  # «never_started»
#   panel: balanced  # «panel»
#   missing: drop  # «missing»
#   # read: {read_example}
"""

# An example value for each `read:` option; an option added to ReadOptions later shows as null.
_READ_EXAMPLES = {
    "sep": '";"',
    "decimal": '","',
    "encoding": "cp1252",
    "sheet": "0",
    "where": '"year >= 2010"',
    "sql": "null",
    "columns": "null",
}


def _check_language(language: str) -> None:
    check_choice("language", language, LANGUAGES)


def params_filename(grantee: str) -> str:
    """The parameter file's name for `grantee` ("Familiehuset Nord" -> "familiehuset_nord.yml")."""
    return slugify(grantee).replace("-", "_") + ".yml"


def _fill_comments(text: str, language: str) -> str:
    which = LANGUAGES.index(language)
    lines = []
    for line in text.splitlines():
        if "«" in line:
            key = line[line.index("«") + 1 : line.index("»")]
            comment = _COMMENTS[key][which].split("\n")
            prefix = line[: line.index("«")]
            if not prefix.strip(" #"):  # a comment line of its own, perhaps several
                indent = prefix[: len(prefix) - len(prefix.lstrip())]
                lead = prefix.strip()
                lines.extend(f"{indent}{lead} {part}".rstrip() for part in comment)
                continue
            line = prefix + comment[0] + line[line.index("»") + 1 :]
        lines.append(line)
    return "\n".join(lines) + "\n"


def new_params(grantee: str, *, from_params: Path | None = None, language: str = "da") -> str:
    """A commented YAML parameter file for a new grantee, as text.

    Parameters
    ----------
    grantee
        The organisation's name, as it is to appear on the report.
    from_params
        Copy this parameter file's settings (and its comments) instead, with `grantee`'s name,
        slug and data file names.
    language
        ``"da"`` or ``"en"``: the report language and the language of the comments (a copy
        keeps the language of the file it copies).

    Returns
    -------
    str
        The file's text: valid for :func:`evaltools.params.loading.load_params` once its data file
        exists.
    """
    _check_language(language)
    grantee = grantee.strip()
    if not grantee:
        raise ParamsError("the grantee's name must not be empty.")
    if from_params is not None:
        return _copy_params(grantee, Path(from_params))
    slug = slugify(grantee)
    read_example = ", ".join(
        f"{name}: {_READ_EXAMPLES.get(name, 'null')}" for name in ReadOptions.model_fields
    )
    filename = params_filename(grantee)
    which = LANGUAGES.index(language)
    head = _COMMENTS["head"][which].format(grantee=grantee, filename=f"params/{filename}")
    text = _TEMPLATE.format(
        head="\n".join(f"# {line}" for line in head.split("\n")),
        grantee_q=json.dumps(grantee, ensure_ascii=False),
        year=date.today().year,
        slug=slug,
        language=language,
        file_stem=filename.removesuffix(".yml"),
        read_example="{" + read_example + "}",
        intervention=("Indsatsens navn", "Name of the intervention")[which],
    )
    return _fill_comments(text, language)


def _copy_params(grantee: str, source: Path) -> str:
    if not source.is_file():
        raise ParamsError(f"{source}: parameter file not found (given with --from).")
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 100
    try:
        tree = yaml.load(source.read_text(encoding="utf-8"))
    except (YAMLError, UnicodeDecodeError) as exc:
        raise ParamsError(f"{source}: not a readable parameter file: {exc}") from None
    if not isinstance(tree, CommentedMap):
        raise ParamsError(
            f"{source}: expected a mapping of keys (grantee, analyses, ...) at the top."
        )
    old_grantee = str(tree.get("grantee", ""))
    old_slug = str(tree.get("slug") or slugify(old_grantee))
    new_slug = slugify(grantee)
    tree["grantee"] = DoubleQuotedScalarString(grantee)
    if "slug" in tree:
        tree["slug"] = new_slug.replace("-", "_") if "_" in old_slug else new_slug
    for section in ("prepost", "register_panel"):
        spec = tree.get(section)
        if isinstance(spec, dict) and isinstance(spec.get("data"), str):
            spec["data"] = _renamed(spec["data"], old_slug, new_slug)
    out = io.StringIO()
    yaml.dump(tree, out)
    head = (
        f"# {grantee}: kopieret fra {source.name} af `evaltools new --from`.\n"
        "# Tjek hver værdi nedenfor, først stierne til data.\n"
        if tree.get("language", "da") == "da"
        else f"# {grantee}: copied from {source.name} by `evaltools new --from`.\n"
        "# Check every value below, the data paths first.\n"
    )
    return head + out.getvalue()


def _renamed(path: str, old_slug: str, new_slug: str) -> str:
    """`path` with the old grantee's slug in its file name replaced by the new one's."""
    folder, _, name = path.rpartition("/")
    for old, new in (
        (old_slug.replace("-", "_"), new_slug.replace("-", "_")),
        (old_slug, new_slug),
    ):
        if old and old in name:
            name = name.replace(old, new)
            break
    return f"{folder}/{name}" if folder else name


def write_new_params(
    grantee: str,
    *,
    folder: Path,
    from_params: Path | None = None,
    force: bool = False,
    language: str = "da",
) -> Path:
    """Write :func:`new_params` to ``folder/<grantee>.yml``; return the file's path.

    Raises
    ------
    ParamsError
        If the file exists and `force` is not set (nothing is written), or `from_params`
        cannot be read.
    """
    folder = Path(folder)
    path = folder / params_filename(grantee)
    if path.exists() and not force:
        raise ParamsError(
            f"{path}: already exists; nothing was written. Use --force to overwrite it, "
            "or give another name."
        )
    text = new_params(grantee, from_params=from_params, language=language)
    folder.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, text.encode("utf-8"))
    return path
