"""Starting a new grantee: what ``evaltools new`` writes.

:func:`new_params` writes a commented parameter file for a new grantee (every key explained,
in Danish or English; the text is in :mod:`evaltools.params.template`), fills in what a data
file shows (``--data``: id, occasion, date, groups, scales, each marked as a guess), or copies
another grantee's file with the new name and this grantee's own data paths (``--from``). The
report folder is named as the parameter file (``params/x.yml`` -> ``reports/x/``).
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from evaltools.atomic import write_bytes_atomic
from evaltools.choices import LANGUAGES, check_choice
from evaltools.data.layout import DataLayout, GuessedScale, read_layout
from evaltools.errors import ParamsError
from evaltools.params.models import ReadOptions, slugify
from evaltools.params.template import COMMENTS, READ_EXAMPLES, SCALE_TEMPLATE, TEMPLATE

# The example scale of a file written without data.
_EXAMPLE_SCALE = GuessedScale("wellbeing", ["item1", "item2", "item3"], 1, 5)
# Keys copied with --from that belong to the grantee copied from, not to the new one.
_NOT_COPIED = ("comments", "previous_rounds")


def _check_language(language: str) -> None:
    check_choice("language", language, LANGUAGES)


def params_filename(grantee: str) -> str:
    """The parameter file's name for `grantee` ("Familiehuset Nord" -> "familiehuset_nord.yml")."""
    return slugify(grantee).replace("-", "_") + ".yml"


def _fill_comments(text: str, language: str) -> str:
    """Replace every ``«key»`` by its comment in `language`; a marker alone on its line
    becomes the comment's lines."""
    which = LANGUAGES.index(language)
    lines = []
    for line in text.splitlines():
        if "«" in line:
            prefix = line[: line.index("«")]
            key = line[line.index("«") + 1 : line.index("»")]
            if not prefix.strip(" #"):  # a comment line of its own, perhaps several
                indent = prefix[: len(prefix) - len(prefix.lstrip())]
                lead = prefix.strip()
                lines.extend(
                    f"{indent}{lead} {part}".rstrip() for part in COMMENTS[key][which].split("\n")
                )
                continue
            while "«" in line:
                key = line[line.index("«") + 1 : line.index("»")]
                comment = COMMENTS[key][which].split("\n")[0]
                line = line[: line.index("«")] + comment + line[line.index("»") + 1 :]
        lines.append(line)
    return "\n".join(lines) + "\n"


def _scale_text(scale: GuessedScale, *, guessed: bool) -> str:
    example = scale is _EXAMPLE_SCALE
    return SCALE_TEMPLATE.format(
        name=scale.name,
        label_da="Trivsel" if example else scale.name,
        label_en="Well-being" if example else scale.name,
        items=", ".join(scale.items),
        first_item=scale.items[-1],
        low=scale.low,
        high=scale.high,
        cutoff=(scale.low + scale.high) / 2,
        items_key="items_guessed" if guessed else "items",
        range_key="range_guessed" if guessed else "range",
        hib_key="hib_guessed" if guessed else "higher_is_better",
        label_key="label_guessed" if guessed else "label",
    )


def _data_entry(data: Path, folder: Path) -> str:
    """How the parameter file in `folder` names `data`: relative to that folder or the one
    above it (the project, where :func:`load_params` also looks), else absolute."""
    data, folder = data.resolve(), folder.resolve()
    for base in (folder, folder.parent):
        if data.is_relative_to(base):
            return data.relative_to(base).as_posix()
    return data.as_posix()


def new_params(
    grantee: str,
    *,
    from_params: Path | None = None,
    language: str = "da",
    data: Path | None = None,
    folder: Path = Path("params"),
) -> str:
    """A commented YAML parameter file for a new grantee, as text.

    Parameters
    ----------
    grantee
        The organisation's name, as it is to appear on the report.
    from_params
        Copy this parameter file's settings (and its comments) instead, with `grantee`'s name,
        slug and data paths (never the other grantee's).
    language
        ``"da"`` or ``"en"``: the report language and the language of the comments (a copy
        keeps the language of the file it copies).
    data
        The grantee's pre/post data file: its columns fill in the id, occasion, date, groups
        and scales (:func:`evaltools.data.layout.guess_layout`), each marked for checking.
    folder
        Where the file will be written (to name `data` as seen from there).

    Returns
    -------
    str
        The file's text: valid for :func:`evaltools.params.loading.load_params` once its data
        file exists and `period` is filled in (from the data's dates with `data`).
    """
    _check_language(language)
    grantee = grantee.strip()
    if not grantee:
        raise ParamsError("the grantee's name must not be empty.")
    filename = params_filename(grantee)
    stem = filename.removesuffix(".yml")
    data_entry = _data_entry(Path(data), Path(folder)) if data is not None else None
    if from_params is not None:
        return _copy_params(grantee, Path(from_params), data_entry)
    layout = read_layout(data) if data is not None else DataLayout(columns=[])
    which = LANGUAGES.index(language)
    read_example = ", ".join(
        f"{name}: {READ_EXAMPLES.get(name, 'null')}" for name in ReadOptions.model_fields
    )
    head = COMMENTS["head"][which].format(grantee=grantee, filename=f"params/{filename}")
    guessed = "; «guessed»"
    scales = layout.scales or [_EXAMPLE_SCALE]
    years = layout.years
    text = TEMPLATE.format(
        head="\n".join(f"# {line}" for line in head.split("\n")),
        grantee_q=json.dumps(grantee, ensure_ascii=False),
        period="" if years is None else "-".join(dict.fromkeys(map(str, years))),
        period_key="period" if years is None else "period_guessed",
        slug=stem,
        language=language,
        file_stem=stem,
        data=data_entry or f"data/{stem}.csv",
        id=layout.id or "client_id",
        id_note=guessed if layout.id else "",
        occasion=layout.occasion or "measurement",
        occasion_note=guessed if layout.occasion else "",
        date_hash="" if layout.date else "# ",
        date=layout.date or "date",
        date_note=guessed if layout.date else "",
        groups="[" + ", ".join(layout.groups) + "]",
        groups_note=guessed if layout.groups else "",
        scales="\n".join(_scale_text(s, guessed=bool(layout.scales)) for s in scales),
        read_example="{" + read_example + "}",
        intervention=("Indsatsens navn", "Name of the intervention")[which],
    )
    return _fill_comments(text, language)


def _copy_params(grantee: str, source: Path, data_entry: str | None) -> str:
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
    stem = params_filename(grantee).removesuffix(".yml")
    tree["grantee"] = DoubleQuotedScalarString(grantee)
    if "slug" in tree:
        tree["slug"] = stem
    else:  # the report folder is named as the parameter file, not after the grantee's name
        tree.insert(list(tree).index("grantee") + 1, "slug", stem)
    danish = tree.get("language", "da") == "da"
    check = "UDFYLD: denne bevillingsmodtagers data" if danish else "FILL IN: this grantee's data"
    for section, suffix in (("prepost", ""), ("register_panel", "_register")):
        spec = tree.get(section)
        if isinstance(spec, CommentedMap) and isinstance(spec.get("data"), str):
            old = spec["data"]
            ext = os.path.splitext(old)[1] if "*" not in old else ".parquet"
            own = data_entry if (data_entry and section == "prepost") else None
            spec["data"] = own or f"data/{stem}{suffix}{ext}"
            spec.yaml_add_eol_comment(check, "data")
            if isinstance(spec.get("survey"), CommentedMap):
                waves = spec["survey"].get("waves")
                for wave in list(waves or {}):
                    waves[wave] = f"data/{stem}_wave{wave}.xlsx"
    for key in _NOT_COPIED:
        tree.pop(key, None)
    out = io.StringIO()
    yaml.dump(tree, out)
    head = (
        f"# {grantee}: kopieret fra {source.name} af `evaltools new --from`.\n"
        "# Stierne til data er sat til denne bevillingsmodtagers egne filer; tjek hver værdi.\n"
        if danish
        else f"# {grantee}: copied from {source.name} by `evaltools new --from`.\n"
        "# The data paths name this grantee's own files; check every value below.\n"
    )
    return head + out.getvalue()


def write_new_params(
    grantee: str,
    *,
    folder: Path,
    from_params: Path | None = None,
    force: bool = False,
    language: str = "da",
    data: Path | None = None,
) -> Path:
    """Write :func:`new_params` to ``folder/<grantee>.yml``; return the file's path.

    Raises
    ------
    ParamsError
        If the file exists and `force` is not set (nothing is written), or `from_params`
        cannot be read.
    DataError
        If `data` cannot be read.
    """
    folder = Path(folder)
    path = folder / params_filename(grantee)
    if path.exists() and not force:
        raise ParamsError(
            f"{path}: already exists; nothing was written. Use --force to overwrite it, "
            "or give another name."
        )
    text = new_params(grantee, from_params=from_params, language=language, data=data, folder=folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, text.encode("utf-8"))
    return path
