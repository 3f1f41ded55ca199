"""Loading a parameter file: YAML into :class:`~evaltools.params.models.Params`, with every
error located (file, line, key, bad value, what is allowed) as a
:class:`~evaltools.errors.ParamsError`."""

from __future__ import annotations

import difflib
import glob
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from evaltools.errors import ParamsError
from evaltools.params.models import Params, glob_matches

#: Foundation settings, read from the environment (the CLI's ``--min-cell-size-floor`` and
#: ``--data-root`` set them, so the kernels and batch workers a run starts see them too).
FLOOR_ENV = "EVALTOOLS_MIN_CELL_SIZE_FLOOR"
DATA_ROOT_ENV = "EVALTOOLS_DATA_ROOT"
MAX_PARAMS_BYTES_ENV = "EVALTOOLS_MAX_PARAMS_BYTES"
MAX_TEXT_ENV = "EVALTOOLS_MAX_TEXT_LENGTH"
MAX_DATA_BYTES_ENV = "EVALTOOLS_MAX_DATA_BYTES"
MAX_DATA_BYTES = 2_000_000_000  # all of one analysis' data files together

MAX_PARAMS_BYTES = 1_000_000  # a parameter file is a page or two of YAML
MAX_TEXT_LENGTH = 2_000  # characters in one text value (a name, a label, a comment)
MAX_DEPTH = 20  # nesting of mappings and lists; the deepest params key is ~6 levels down
MAX_NODES = 100_000  # values after aliases are expanded (a "billion laughs" bomb is far more)
PARAMS_FOLDER = "params"  # DATA_ROOT_ENV value: each parameter file's own folder
#: DATA_ROOT_ENV value (batch's default): each parameter file's own folder and, for a file in
#: a project's ``params/`` folder, that project's ``data/`` folder (the demo's and
#: ``evaltools new``'s layout: ``params/x.yml`` beside ``data/x.csv``)
PROJECT_FOLDERS = "project"
#: The foundation's floor for ``min_cell_size`` in a batch when it names none
DEFAULT_FLOOR = 5


def _int_setting(name: str, default: int | None) -> int | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ParamsError(f"the setting {name}={raw!r} must be a whole number of at least 1.")
    return int(raw)


def min_cell_size_floor() -> int | None:
    """The foundation's floor for ``min_cell_size`` (``$EVALTOOLS_MIN_CELL_SIZE_FLOOR``)."""
    return _int_setting(FLOOR_ENV, None)


def data_roots(params_file: Path) -> tuple[Path, ...]:
    """The folders a grantee's files must be in (``$EVALTOOLS_DATA_ROOT``); () is anywhere.

    ``params`` means the parameter file's own folder; ``project`` that folder and, when the
    file is in a folder named ``params`` (or below one), the ``data/`` folder beside it.
    """
    raw = os.environ.get(DATA_ROOT_ENV, "").strip()
    if not raw:
        return ()
    folder = params_file.resolve().parent
    if raw == PARAMS_FOLDER:
        return (folder,)
    if raw == PROJECT_FOLDERS:
        above = next((f for f in (folder, *folder.parents) if f.name == "params"), None)
        return (folder,) if above is None else (folder, above.parent / "data")
    return (Path(raw).expanduser().resolve(),)


@contextmanager
def batch_defaults() -> Iterator[None]:
    """While a batch runs, the foundation settings it did not give take batch's defaults.

    A floor of :data:`DEFAULT_FLOOR` for ``min_cell_size`` and the data root
    :data:`PROJECT_FOLDERS`: a grantee's file can't switch suppression off or read files
    outside its own folders unless the foundation says so (``--min-cell-size-floor 1``,
    ``--data-root /``). The environment is restored afterwards.
    """
    defaults = {FLOOR_ENV: str(DEFAULT_FLOOR), DATA_ROOT_ENV: PROJECT_FOLDERS}
    added = [name for name in defaults if not os.environ.get(name, "").strip()]
    for name in added:
        os.environ[name] = defaults[name]
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def _line_of(tree: Any, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at `loc`, as near as the tree knows it."""
    node, line = tree, None
    for key in loc:
        if isinstance(node, CommentedMap) and key in node:
            line = node.lc.key(key)[0] + 1
            node = node[key]
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
            line = node.lc.item(key)[0] + 1
            node = node[key]
        else:
            break
    return line


def _value_at(tree: Any, loc: tuple[int | str, ...]) -> Any:
    node = tree
    for key in loc:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class whose field set applies at `loc` (for typo suggestions)."""
    model: Any = Params
    for key in loc:
        if isinstance(key, int):
            continue
        field = getattr(model, "model_fields", {}).get(key)
        if field is None:
            return None
        model = _inner_model(field.annotation)
        if model is None:
            return None
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for key in loc:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def _is_union_branch(key: str) -> bool:
    """pydantic names the branch of a union in an error's location; it is not a YAML key."""
    return "[" in key or key in {"int", "str", "float", "bool", "constrained-int"}


def _describe(error: dict[str, Any], tree: Any, path: Path) -> str:
    loc = tuple(k for k in error["loc"] if not (isinstance(k, str) and k.startswith("function-")))
    # pydantic puts union branch names (e.g. 'int', "literal['first','last']") in loc; drop them
    loc = tuple(k for k in loc if not (isinstance(k, str) and _is_union_branch(k)))
    line = _line_of(tree, loc)
    where = f"{path}" + (f", line {line}" if line else "")
    key = _dotted(loc) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = sorted(model.model_fields) if model else []
        bad = str(loc[-1])
        near = difflib.get_close_matches(bad, allowed, n=1, cutoff=0.6)
        hint = f" Did you mean '{near[0]}'?" if near else ""
        return f"{where}: unknown key '{key}'.{hint} Allowed here: {', '.join(allowed)}."
    value = _value_at(tree, loc)
    if kind == "missing":
        return f"{where}: required key '{key}' is missing."
    # A check of a whole section (a mapping) names what is wrong itself; quoting the section
    # would bury the message under its contents.
    quiet = value is None or isinstance(value, dict)
    shown = "" if quiet and kind.startswith("value_error") else f" (got {value!r})"
    msg = error["msg"].removeprefix("Value error, ")
    return f"{where}: '{key}'{shown}: {msg}."


def with_choices(params: Params, analysis: str, **choices: Any) -> Params:
    """`params` with the keys of its `analysis` section given in `choices` replaced and
    checked again; a choice of None keeps the parameter file's value.

    What a notebook's papermill parameters (``compare``, ``groups``) do: an evaluator tries
    another comparison or grouping without editing the parameter file.

    Raises
    ------
    ParamsError
        If a choice is not allowed there (named as the key it replaces).
    """
    changes = {key: value for key, value in choices.items() if value is not None}
    section = getattr(params, analysis)
    if not changes or section is None:
        return params
    values = {**section.model_dump(exclude_unset=True), **changes}
    if "groups" in changes:  # labels of the columns no longer grouped by are not needed
        for key in ("group_labels", "value_labels"):
            if isinstance(values.get(key), dict):
                values[key] = {g: v for g, v in values[key].items() if g in changes["groups"]}
    try:
        checked = type(section).model_validate(values)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        loc = tuple(k for k in error["loc"] if not _is_union_branch(str(k)))
        raise ParamsError(
            f"the notebook's choice for '{_dotted((analysis, *loc))}' "
            f"(got {_value_at(values, loc)!r}): "
            f"{error['msg'].removeprefix('Value error, ')}."
        ) from None
    return params.model_copy(update={analysis: checked})


def where_named(path: str | Path, value: str) -> str | None:
    """Where the parameter file at `path` names `value` (a column): ``"<file>, line N
    ('prepost.scales[0].items[1]')"``, the first place it is a value; None if nowhere."""
    try:
        tree = YAML(typ="rt").load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, MarkedYAMLError):
        return None

    def find(node: Any, loc: tuple[int | str, ...]) -> tuple[int | str, ...] | None:
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in items:
            if isinstance(child, dict | list):
                found = find(child, (*loc, key))
                if found is not None:
                    return found
            elif str(child) == value:
                return (*loc, key)
        return None

    loc = find(tree, ()) if isinstance(tree, dict) else None
    if loc is None:
        return None
    line = _line_of(tree, loc)
    return f"{path}" + (f", line {line}" if line else "") + f" ('{_dotted(loc)}')"


def load_params(path: str | Path) -> Params:
    """Read, validate and return the parameters in the YAML file at `path`.

    Raises
    ------
    ParamsError
        If the file is missing, is not valid YAML, or any key or value is not allowed; the
        message names the file, the line, the key, the bad value and what is allowed.
    """
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: parameter file not found.")
    limit = _int_setting(MAX_PARAMS_BYTES_ENV, MAX_PARAMS_BYTES) or MAX_PARAMS_BYTES
    size = path.stat().st_size
    if size > limit:
        raise ParamsError(
            f"{path}: the parameter file is {size:,} bytes; at most {limit:,} are allowed "
            f"(the setting {MAX_PARAMS_BYTES_ENV})."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ParamsError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from exc
    fast = _fast_tree(text)
    if fast is not None:
        try:
            return _validated(fast, path)
        except ParamsError:
            pass  # the same checks on the round-trip tree below name the line that is wrong
    try:
        tree = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ParamsError(f"{path}{line}: malformed YAML: {exc.problem}.") from exc
    return _validated(tree, path)


def _fast_tree(text: str) -> Any:
    """The YAML `text` as plain Python objects, read by ruamel's safe loader; None if it can't.

    With ruamel.yaml.clib installed its parser is libyaml's C (1.4 ms for the demo's parameter
    file, against 10 ms for the round-trip loader; a batch reads each file three times: in the
    parent, the worker and the kernel). The values are YAML 1.2's either way (``no`` stays a
    string): ruamel resolves the scalars, not libyaml. This tree knows no lines, so a file that
    fails a check is read again by the round-trip loader, whose tree names the line. A file
    with a merge key (``<<``) is left to the round-trip loader, which orders the merged keys
    after the mapping's own (the safe loader puts them first).
    """
    if "<<" in text:
        return None
    try:
        return YAML(typ="safe").load(text)
    except Exception:  # any reason: the round-trip loader reads it again and says what is wrong
        return None


def _validated(tree: Any, path: Path) -> Params:
    """The parameters in `tree` (a parsed parameter file), checked; errors name `path`."""
    if not isinstance(tree, dict):
        raise ParamsError(
            f"{path}: expected a mapping of keys (grantee, analyses, ...) at the top."
        )
    _check_shape(tree, path)
    plain = _plain(tree)
    try:
        params = Params.model_validate(plain, context={"base_dir": path.resolve().parent})
    except ValidationError as exc:
        # A typo shows up twice (an unknown key and a missing one): name the typo first.
        errors = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
        first = _describe(errors[0], tree, path)
        more = f" ({len(errors) - 1} more problem(s) after this one.)" if len(errors) > 1 else ""
        raise ParamsError(first + more) from None
    _check_data_files(params, tree, path)
    _check_floor(params, tree, path)
    _check_data_root(params, tree, path)
    return params


def _check_shape(tree: Any, path: Path) -> None:
    """Refuse alias bombs, deep nesting and over-long texts before anything walks the tree.

    ruamel keeps an alias as a reference to one node, so parsing is cheap; counting every
    value as if the aliases were expanded finds a bomb before :func:`_plain` would expand it.
    """
    max_text = _int_setting(MAX_TEXT_ENV, MAX_TEXT_LENGTH) or MAX_TEXT_LENGTH
    counted: dict[int, int] = {}

    def size(node: Any, depth: int, where: tuple[int | str, ...]) -> int:
        if depth > MAX_DEPTH:
            line = _line_of(tree, where)
            raise ParamsError(
                f"{path}" + (f", line {line}" if line else "") + f": nested more than "
                f"{MAX_DEPTH} levels deep ('{_dotted(where)}'); a parameter file is much flatter."
            )
        if isinstance(node, str) and len(node) > max_text:
            line = _line_of(tree, where)
            raise ParamsError(
                f"{path}" + (f", line {line}" if line else "") + f": '{_dotted(where)}' is "
                f"{len(node):,} characters long; at most {max_text:,} are allowed "
                f"(the setting {MAX_TEXT_ENV})."
            )
        if not isinstance(node, dict | list):
            return 1
        if id(node) in counted:
            return counted[id(node)]
        items = node.items() if isinstance(node, dict) else enumerate(node)
        total = 1
        for key, value in items:
            total += size(value, depth + 1, (*where, key))
            if total > MAX_NODES:
                break
        counted[id(node)] = total
        if total > MAX_NODES:
            raise ParamsError(
                f"{path}: the file expands to more than {MAX_NODES:,} values (YAML aliases "
                "repeated over and over?); a parameter file is far smaller."
            )
        return total

    size(tree, 0, ())


def _check_floor(params: Params, tree: Any, path: Path) -> None:
    floor = min_cell_size_floor()
    if floor is not None and params.min_cell_size < floor:
        line = _line_of(tree, ("min_cell_size",))
        where = f"{path}" + (f", line {line}" if line else "")
        raise ParamsError(
            f"{where}: 'min_cell_size' (got {params.min_cell_size}) is below the foundation's "
            f"floor of {floor}; a parameter file may raise it, never lower it."
        )


def _inside(candidate: Path, root: Path) -> bool:
    return candidate.resolve().is_relative_to(root)


def _named_files(params: Params) -> list[tuple[tuple[int | str, ...], Path]]:
    """Every file (or glob) a parameter file names to be read, with its key."""
    named: list[tuple[tuple[int | str, ...], Path]] = []
    survey = params.prepost.survey if params.prepost is not None else None
    if survey is not None:  # first: `prepost.data` may be the first wave's file
        named += [(("prepost", "survey", "waves", w), p) for w, p in survey.waves.items()]
    named += [((name, "data"), getattr(params, name).data) for name in params.analyses]
    if params.comments is not None and params.comments.file is not None:
        named.append((("comments", "file"), params.comments.file))
    return named


def _check_data_root(params: Params, tree: Any, path: Path) -> None:
    roots = data_roots(path)
    if not roots:
        return
    for loc, data in _named_files(params):
        files = glob_glob(data) if any(c in str(data) for c in "*?[") else [data]
        if all(_inside_any(f, roots) for f in [*files, _fixed_part(data)]):
            continue
        line = _line_of(tree, loc)
        where = f"{path}" + (f", line {line}" if line else "")
        raw = _value_at(tree, loc)
        folders = " or ".join(str(r) for r in roots)
        raise ParamsError(
            f"{where}: '{_dotted(loc)}' (got {raw!r}) must be inside the data folder "
            f"{folders} (looked for it there); the foundation sets this folder "
            f"({DATA_ROOT_ENV}, `--data-root`)."
        )


def _inside_any(candidate: Path, roots: tuple[Path, ...]) -> bool:
    return any(_inside(candidate, root) for root in roots)


def _fixed_part(pattern: Path) -> Path:
    """The part of a glob pattern before its first wildcard."""
    parts = []
    for part in pattern.parts:
        if any(c in part for c in "*?["):
            break
        parts.append(part)
    return Path(*parts) if parts else Path(".")


def glob_glob(pattern: Path) -> list[Path]:
    """The files `pattern` matches (``**`` included)."""
    return [Path(p) for p in glob.glob(str(pattern), recursive=True)]


def _check_data_files(params: Params, tree: Any, path: Path) -> None:
    for name in params.analyses:
        section = getattr(params, name)
        if not (section.data.is_file() or glob_matches(section.data)):
            line = _line_of(tree, (name, "data"))
            where = f"{path}" + (f", line {line}" if line else "")
            raw = _value_at(tree, (name, "data"))
            raise ParamsError(
                f"{where}: '{name}.data' (got {raw!r}): data file not found; looked for it "
                f"beside the parameter file and in the folders above it (e.g. {section.data})."
            )
        _check_data_size(name, section.data, tree, path)


def _check_data_size(name: str, data: Path, tree: Any, path: Path) -> None:
    limit = _int_setting(MAX_DATA_BYTES_ENV, MAX_DATA_BYTES) or MAX_DATA_BYTES
    files = glob_glob(data) if any(c in str(data) for c in "*?[") else [data]
    size = sum(f.stat().st_size for f in files if f.is_file())
    if size > limit:
        line = _line_of(tree, (name, "data"))
        where = f"{path}" + (f", line {line}" if line else "")
        raise ParamsError(
            f"{where}: '{name}.data' is {size:,} bytes; at most {limit:,} are allowed "
            f"(the setting {MAX_DATA_BYTES_ENV})."
        )


def _plain(node: Any) -> Any:
    """Turn ruamel's round-trip containers into plain dicts and lists."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node
