"""Loading a parameter file: YAML into :class:`~evaltools.params.models.Params`, with every
error located (file, line, key, bad value, what is allowed) as a
:class:`~evaltools.errors.ParamsError`."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from evaltools.errors import ParamsError
from evaltools.params.models import Params, glob_matches


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
    shown = "" if value is None and kind.startswith("value_error") else f" (got {value!r})"
    msg = error["msg"].removeprefix("Value error, ")
    return f"{where}: '{key}'{shown}: {msg}."


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
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ParamsError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from exc
    try:
        tree = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ParamsError(f"{path}{line}: malformed YAML: {exc.problem}.") from exc
    if not isinstance(tree, dict):
        raise ParamsError(
            f"{path}: expected a mapping of keys (grantee, analyses, ...) at the top."
        )
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
    return params


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


def _plain(node: Any) -> Any:
    """Turn ruamel's round-trip containers into plain dicts and lists."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node
