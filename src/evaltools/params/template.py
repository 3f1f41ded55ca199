"""The text of the parameter file ``evaltools new`` writes: the template and its comments.

Every comment is given in Danish and English (:data:`COMMENTS`); the template marks where each
goes with ``«key»`` (:func:`evaltools.params.scaffold.new_params` fills them in), so a Danish
file is Danish throughout and an English one English.
"""

from __future__ import annotations

# One comment per key, in Danish and English. The template below refers to them as «key».
COMMENTS: dict[str, tuple[str, str]] = {
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
        'perioden, rapporten dækker, fx "2025" eller "1. halvår 2025": UDFYLD',
        'the period the report covers, e.g. "2025" or "first half of 2025": FILL IN',
    ),
    "period_guessed": (
        "perioden, rapporten dækker: datoerne i dataene; TJEK",
        "the period the report covers: the dates in the data; CHECK",
    ),
    "slug": (
        "rapportens mappe: reports/<slug>/, navngivet som denne fil (små bogstaver, tal, - og _)",
        "report folder: reports/<slug>/, named as this file (lower-case letters, digits, - and _)",
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
    "guessed": (
        "gættet ud fra dataene; TJEK",
        "guessed from the data; CHECK",
    ),
    "items_guessed": (
        "spørgsmålene, gættet ud fra kolonnenavnene; TJEK",
        "the items, guessed from the column names; CHECK",
    ),
    "range_guessed": (
        "laveste og højeste svar i dataene; TJEK mod skalaens manual",
        "lowest and highest answer in the data; CHECK against the scale's manual",
    ),
    "label_guessed": (
        "skalaens navn i rapporten: UDFYLD",
        "the scale's name in the report: FILL IN",
    ),
    "hib_guessed": (
        "false, hvis et fald er en forbedring (fx angst, stress): UDFYLD",
        "false if a decrease is an improvement (e.g. anxiety, stress): FILL IN",
    ),
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
    "cutoff_source": (
        "hvor grænsen kommer fra",
        "where the cutoff is from",
    ),
    "scale_progression": (
        "hvad der tæller som fremgang: reliable_change | any_change | minimal_important_difference",
        "what counts as progress: reliable_change | any_change | minimal_important_difference",
    ),
    "mid": (
        "skalapoint, der tæller som et lille skridt",
        "scale points that count as a small step",
    ),
    "ph_column": (
        "fasen for hver måling (eller occasions: {p1: [1, 2]})",
        "the phase of each measurement (or occasions: {p1: [1, 2]})",
    ),
    "ph_moment": (
        "før eller efter",
        "before or after",
    ),
    "ph_split": (
        "opdeling i to led sammen med fasen",
        "two-way splits with the phase",
    ),
    "progression": (
        "eller any_change, minimal_important_difference",
        "or any_change, minimal_important_difference",
    ),
    "indicators": (
        "indikatordelen også uden phases/clients/items",
        "the indicator part also without phases/clients/items",
    ),
    "bg_values": (
        'tekster for koder, fx {"1": {da: "Ja", en: "Yes"}}',
        'labels of codes, e.g. {"1": {da: "Ja", en: "Yes"}}',
    ),
    "item_kind": (
        "yes_no (ja/nej) | likert",
        "yes_no | likert",
    ),
    "survey": (
        'eller wide: "{item}_t{wave}"',
        'or wide: "{item}_t{wave}"',
    ),
    "term": (
        "short (kort sigt) | long (lang sigt)",
        "short | long",
    ),
    "leads_to": (
        "navne på de langsigtede mål, dette fører til",
        "names of long-term outcomes this one leads to",
    ),
    "ind_analysis": (
        "prepost (en skala) | register_panel (et udfald)",
        "prepost (a scale) | register_panel (an outcome)",
    ),
    "ind_scale": (
        "prepost: en skalas navn",
        "prepost: a scale's name",
    ),
    "ind_outcome": (
        "for en register_panel-indikator: en udfaldskolonne",
        "for a register_panel indicator: an outcome column",
    ),
    "baseline": (
        "niveauet før, i indikatorens enheder",
        "the level before, in the indicator's units",
    ),
    "target": (
        "gennemsnittet, der sigtes mod ved sidste måling",
        "mean aimed for at the last measurement",
    ),
    "target_share": (
        "andel klienter med en pålidelig forbedring",
        "share of clients with a reliable improvement",
    ),
    "as_of": (
        "senere målinger ignoreres (standard: seneste dato)",
        "measurements dated later are ignored (default: the latest date)",
    ),
    "cy_period": (
        "2025, 2025-Q2, 2025-05 eller {from: 2025-01-01, to: 2025-06-30}",
        "2025, 2025-Q2, 2025-05 or {from: 2025-01-01, to: 2025-06-30}",
    ),
    "cy_period2": (
        "(start: og end: er det samme som from: og to:; label: dens navn)",
        "(start: and end: are the same as from: and to:; label: its name)",
    ),
    "cy_clients": (
        "closed (afsluttet i perioden) | active (aktive) | all (alle)",
        "closed (in the period) | active | all",
    ),
    "cy_trend": (
        "quarter (kvartal) | month (måned) | year (år)",
        "quarter | month | year",
    ),
    "course": (
        "et forløb er afsluttet, når en af reglerne i `when` gælder",
        "a course is closed when any rule in `when` holds",
    ),
    "status_column": (
        "en kolonne med hvert forløbs status (valgfri)",
        "a column with each course's status (optional)",
    ),
    "inactive_days": (
        "ingen måling i så mange dage",
        "no measurement for this many days",
    ),
    "last_occasion": (
        "den sidste planlagte måling (standard: den højeste i dataene)",
        "the last planned measurement (default: the highest in the data)",
    ),
    "interval_days": (
        "planlagte dage mellem målinger (forfaldne målinger)",
        "planned days between measurements (measurements due)",
    ),
    "levels": (
        "rapporter pr. niveau i reports/<slug>/levels/<level>/",
        "reports per level in reports/<slug>/levels/<level>/",
    ),
    "comments": (
        "organisationens egne ord ved resultaterne (vises som tekst)",
        "the organisation's own words beside the results (shown as text)",
    ),
    "sections": (
        "summary, clients, trend, departments, ...",
        "summary, clients, trend, departments, ...",
    ),
    "comments_file": (
        'eller en Markdown-fil: "## trend" starter et afsnits kommentar',
        'or a Markdown file: "## trend" starts a section\'s comment',
    ),
    "previous_rounds": (
        "sidste rundes results.json eller dens rapportmappe",
        "last round's results.json, or its reports folder",
    ),
    "staggered_se": (
        "analytic | bootstrap: standardfejl for staggered-estimatoren",
        "analytic | bootstrap standard errors of the staggered estimator",
    ),
    "n_boot": (
        "antal bootstrap-træk, når staggered_se: bootstrap",
        "bootstrap draws when staggered_se: bootstrap",
    ),
    "indicators_head": (
        "Indikatorsystemet (valgfrit, under prepost:): ændring inden for hver fase,\n"
        "klientstatistik, ja/nej-spørgsmål, survey-eksporter. Hver nøgle er forklaret i\n"
        "docs/params.md.",
        "The indicator system (optional, under prepost:): change inside each phase, client\n"
        "statistics, yes/no questions, survey exports. Every key is explained in docs/params.md.",
    ),
    "toc_head": (
        "Forandringsteori (valgfri): aktiviteter -> leverancer -> kort- og langsigtede mål,\n"
        "hvert mål målt ved indikatorer med måltal; rapporten begynder med diagrammet. Fjern #\n"
        "foran linjerne for at bruge den; hver nøgle er forklaret i docs/params.md.",
        "Theory of change (optional): activities -> outputs -> short- and long-term outcomes,\n"
        "each outcome measured by indicators with targets; the report opens with its diagram.\n"
        "Remove the # before the lines to use it; every key is explained in docs/params.md.",
    ),
    "cycle_head": (
        "Monitoreringscyklus (valgfri): hvilke datoer og klienter rapporten dækker, udvikling\n"
        "pr. kvartal og rapporter pr. niveau ved siden af standardrapporten (kræver `date:`\n"
        "ovenfor). Nøglerne: docs/params.md.",
        "Monitoring cycle (optional): which dates and clients the report covers, trends per\n"
        "quarter, and reports per level beside the default report (needs `date:` above).\n"
        "Keys: docs/params.md.",
    ),
}

SCALE_TEMPLATE = """\
    - name: {name}  # «name»
      label: {{da: "{label_da}", en: "{label_en}"}}  # «{label_key}»
      # area: {{da: "Trivsel", en: "Well-being"}}  # «area»
      items: [{items}]  # «{items_key}»
      # score: {name}_score  # «score»
      # reverse_items: [{first_item}]  # «reverse_items»
      range: [{low}, {high}]  # «{range_key}»
      higher_is_better: true  # «{hib_key}»
      # reliability: 0.85  # «reliability»
      # min_items_answered: 0.5  # «min_items_answered»
      # cutoff: {cutoff}  # «cutoff»
      # cutoff_source: {{da: "Skalaens manual", en: "The manual"}}  # «cutoff_source»
      # progression: minimal_important_difference  # «scale_progression»
      # minimal_important_difference: 1  # «mid»"""

TEMPLATE = """\
{head}

grantee: {grantee_q}  # «grantee»
intervention: "{intervention}"  # «intervention»
period: "{period}"  # «{period_key}»
slug: {slug}  # «slug»
brand: default  # «brand»
language: {language}  # «language»
min_cell_size: 5  # «min_cell_size»
analyses: [prepost]  # «analyses»

# «prepost»
prepost:
  # «data»
  data: {data}
  # «read»
  # read: {read_example}
  id: {id}  # «id»{id_note}
  occasion: {occasion}  # «occasion»{occasion_note}
  {date_hash}date: {date}  # «date»{date_note}
  groups: {groups}  # «groups»{groups_note}
  # group_labels:  # «group_labels»
  #   department: {{da: "Afdeling", en: "Department"}}
  # value_labels:  # «value_labels»
  #   phase:
  #     1: {{da: "Rådgivning", en: "Counselling"}}
  #     2: {{da: "Gruppeforløb", en: "Group course"}}
  compare: [first, last]  # «compare»
  # «scales»
  scales:
{scales}
# «indicators_head»
#   phases:
#     column: phase           # «ph_column»
#     moment: moment          # «ph_moment»
#     before: before
#     after: after
#     order: [counselling, group_course]
#     labels: {{counselling: {{da: "Rådgivning", en: "Counselling"}}}}
#     split_by: [variant, department]   # «ph_split»
#   progression: reliable_change        # «progression»
#   indicators: true                    # «indicators»
#   clients:
#     by: variant
#     start: start_date
#     end: end_date
#     period: [2025-01-01, 2025-12-31]
#     background:
#       - column: age
#         label: {{da: "Alder", en: "Age"}}
#         bands: [18, 25, 35, 45]
#         values: {{}}                   # «bg_values»
#   items:
#     - name: child_play
#       label: {{da: "Har dit barn leget med andre børn?", en: "Did your child play with others?"}}
#       kind: yes_no                     # «item_kind»
#       higher_is_better: true
#       answers:
#         - {{value: 1, label: {{da: "Ja", en: "Yes"}}}}
#         - {{value: 2, label: {{da: "Nej", en: "No"}}}}
#   survey:
#     waves: {{1: data/wave1.xlsx, 2: data/wave2.xlsx}}   # «survey»

# «toc_head»
# theory_of_change:
#   activities: [{{da: "Rådgivning", en: "Counselling"}}]
#   outputs: [{{da: "100 klienter i rådgivning", en: "100 clients in counselling"}}]
#   outcomes:
#     - name: better_wellbeing
#       label: {{da: "Bedre trivsel", en: "Better well-being"}}
#       term: short          # «term»
#       leads_to: []         # «leads_to»
#       indicators:
#         - analysis: prepost       # «ind_analysis»
#           scale: wellbeing        # «ind_scale»
#           # outcome: in_education   # «ind_outcome»
#           # label: {{da: "Trivsel", en: "Well-being"}}
#           # baseline: 2.5          # «baseline»
#           target: 3.5             # «target»
#           target_share_improved: 0.3   # «target_share»
#           # estimator: did  # event_time: 3  # higher_is_better: true  # share: true

# «cycle_head»
# cycle:
#   as_of: 2025-06-30        # «as_of»
#   period: 2025-Q2          # «cy_period»
#                            # «cy_period2»
#   clients: closed          # «cy_clients»
#   trend: quarter           # «cy_trend»
#   course:                  # «course»
#     when: [status, last_occasion, inactive]
#     status_column: status  # «status_column»
#     closed_values: [afsluttet, closed]
#     inactive_days: 180     # «inactive_days»
#     last_occasion: 4       # «last_occasion»
#     interval_days: 91      # «interval_days»
# levels: [board, steering, team]   # «levels»
# comments:                  # «comments»
#   report: {{da: "Vores kommentar", en: "Our comment"}}
#   sections: {{trend: "Flere klienter i år"}}   # «sections»
#   file: comments.md        # «comments_file»
# previous_rounds: [../reports-2024/]   # «previous_rounds»

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
#   staggered_se: analytic  # «staggered_se»
#   n_boot: 999  # «n_boot»
#   never_started: empty  # «never_started»
#   panel: balanced  # «panel»
#   missing: drop  # «missing»
#   # read: {read_example}
"""

# An example value for each `read:` option; an option added to ReadOptions later shows as null.
READ_EXAMPLES = {
    "sep": '";"',
    "decimal": '","',
    "encoding": "cp1252",
    "sheet": "0",
    "where": '"year >= 2010"',
    "sql": "null",
    "columns": "null",
}
