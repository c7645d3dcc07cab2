"""Notebook parameters: read them as papermill sees them and check the user's values.

``notebook_parameters`` returns each parameter of the ``parameters``-tagged cell with its
default value and an inferred type (the annotation when there is one, else the type of the
literal default). ``parse_param_args`` turns ``NAME=VALUE`` strings into Python values
(Python or JSON literals; plain text for text parameters) and ``check_parameters`` refuses
unknown names and mistyped values with a French message listing the valid parameters.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from models.errors import BiblioError

# Parameters every notebook has; the runner fills them from its own options.
RESERVED = {
    "data_path": "--data",
    "column_map": "--map",
    "output_dir": "--out",
}

TYPE_LABELS = {
    "str": "texte",
    "int": "entier",
    "float": "nombre",
    "bool": "booléen (True/False)",
    "list": "liste",
    "dict": "dictionnaire",
    "tuple": "liste",
    "NoneType": "texte ou None",
}


class ParameterError(BiblioError):
    """A ``--param``/``--map`` value is unknown, malformed or of the wrong type."""


@dataclass(frozen=True)
class NotebookParameter:
    name: str
    type_name: str  # "str", "int", "float", "bool", "list", "dict", "NoneType", "any"
    default: Any
    default_text: str
    help: str = ""

    @property
    def label(self) -> str:
        return TYPE_LABELS.get(self.type_name, self.type_name)


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _NOT_LITERAL


_NOT_LITERAL = object()


def _inspect(path: Path) -> dict[str, dict[str, Any]]:
    """Papermill's view of the parameters (with python3 when the notebook names no kernel)."""
    from papermill.inspection import _infer_parameters, inspect_notebook

    nb = nbformat.read(str(path), as_version=4)
    if nb.metadata.get("kernelspec", {}).get("name"):
        return inspect_notebook(str(path))
    params = _infer_parameters(nb, name="python3", language="python")
    return {p.name: p._asdict() for p in params}


def notebook_parameters(path: Path | str) -> dict[str, NotebookParameter]:
    """The parameters of the notebook at ``path`` with their inferred types, in cell order."""
    out: dict[str, NotebookParameter] = {}
    for name, info in _inspect(Path(path)).items():
        default_text = str(info.get("default", "None"))
        default = _literal(default_text)
        annotated = info.get("inferred_type_name") or "None"
        if annotated != "None":
            type_name = annotated.split("[")[0].strip()
        elif default is _NOT_LITERAL:
            type_name = "any"
        else:
            type_name = type(default).__name__
        if type_name == "tuple":
            type_name = "list"
        out[name] = NotebookParameter(
            name=name,
            type_name=type_name,
            default=None if default is _NOT_LITERAL else default,
            default_text=default_text,
            help=str(info.get("help") or ""),
        )
    return out


def describe(params: dict[str, NotebookParameter]) -> str:
    """French list of the parameters a user may set with ``--param``."""
    lines = []
    for p in params.values():
        if p.name in RESERVED:
            continue
        extra = f" — {p.help}" if p.help else ""
        lines.append(f"  - {p.name} ({p.label}, défaut : {p.default_text}){extra}")
    return "\n".join(lines) if lines else "  (aucun)"


def parse_value(raw: str, expected: str | None = None) -> Any:
    """A ``--param`` value: a Python literal, a JSON literal, or plain text for text types."""
    text = raw.strip()
    value = _literal(text)
    if value is not _NOT_LITERAL:
        if expected in ("str", "NoneType") and not isinstance(value, str) and value is not None:
            return raw  # e.g. a path or code like 2024 given to a text parameter
        return value
    try:
        return json.loads(text)
    except ValueError:
        pass
    return raw


def split_assignment(item: str, option: str) -> tuple[str, str]:
    if "=" not in item:
        raise ParameterError(
            f"Option {option} : « {item} » n'a pas la forme NOM=VALEUR "
            f"(exemple : {option} horizon=7)."
        )
    name, value = item.split("=", 1)
    name = name.strip()
    if not name:
        raise ParameterError(f"Option {option} : nom manquant dans « {item} ».")
    return name, value


def parse_map_args(items: list[str] | None) -> dict[str, str]:
    """``--map "leur colonne=notre_colonne"`` → ``{"leur colonne": "notre_colonne"}``."""
    mapping: dict[str, str] = {}
    for item in items or []:
        theirs, ours = split_assignment(item, "--map")
        ours = ours.strip()
        if not ours:
            raise ParameterError(f"Option --map : nom de colonne cible manquant dans « {item} ».")
        mapping[theirs] = ours
    return mapping


def _type_ok(value: Any, type_name: str) -> bool:
    if type_name == "any":
        return True
    if type_name == "NoneType":
        return value is None or isinstance(value, str)
    if type_name == "bool":
        return isinstance(value, bool)
    if type_name == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name == "str":
        return isinstance(value, str)
    if type_name == "list":
        return isinstance(value, list | tuple)
    if type_name == "dict":
        return isinstance(value, dict)
    return True  # an annotation we do not know: papermill will pass it as is


def parse_param_args(
    items: list[str] | None, params: dict[str, NotebookParameter]
) -> dict[str, Any]:
    """Parse ``NAME=VALUE`` items against the notebook's parameters, then check them."""
    values: dict[str, Any] = {}
    for item in items or []:
        name, raw = split_assignment(item, "--param")
        expected = params[name].type_name if name in params else None
        value = parse_value(raw, expected)
        if expected == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        values[name] = value
    check_parameters(values, params)
    return values


def check_parameters(values: dict[str, Any], params: dict[str, NotebookParameter]) -> None:
    """Raise ``ParameterError`` (French, listing valid parameters) on any unknown/mistyped one."""
    problems = []
    for name, value in values.items():
        if name in RESERVED:
            problems.append(
                f"« {name} » se règle avec l'option {RESERVED[name]}, pas avec --param."
            )
        elif name not in params:
            problems.append(f"paramètre inconnu : « {name} ».")
        elif not _type_ok(value, params[name].type_name):
            p = params[name]
            problems.append(
                f"« {name} » attend une valeur de type {p.label} "
                f"(défaut : {p.default_text}), reçu : {value!r}."
            )
    if problems:
        raise ParameterError(
            "Paramètres refusés :\n"
            + "\n".join(f"  - {p}" for p in problems)
            + "\nParamètres valides de ce notebook :\n"
            + describe(params)
        )
