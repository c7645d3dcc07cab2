"""Notebook parameters: read them as papermill sees them and check the user's values.

``notebook_parameters`` returns each parameter of the ``parameters``-tagged cell with its
default value and an inferred type (the annotation when there is one, else the type of the
literal default). ``parse_param_args`` turns ``NAME=VALUE`` strings into Python values
(Python or JSON literals; plain text for text parameters) and ``check_parameters`` refuses
unknown names, mistyped values and values outside the declared bounds with a French message
listing the valid parameters.

Bounds are declared in the notebook, in the trailing comment of the literal (papermill keeps
it as the parameter's help), in French: ``quantile = 0.8  # entre 0.5 et 0.99``. Understood:
``entre A et B`` (inclusive), ``au moins A``, ``au plus B``, ``supérieur à A``, ``inférieur
à B`` (strict) and ``parmi "a", "b"``; the rest of the comment is free text. ``None`` stays
accepted when it is the default; a number that is not finite (``nan``, ``inf``) never is.
"""

from __future__ import annotations

import ast
import json
import math
import re
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
    "min_share": "--min-share",
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


_NUMBER = r"([-+]?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?)"
_CHOICE = r"""(?:"[^"]*"|'[^']*'|[-+]?\d+(?:\.\d+)?)"""
_BOUND_PATTERNS = (
    ("range", re.compile(rf"\bentre\s+{_NUMBER}\s+et\s+{_NUMBER}", re.IGNORECASE)),
    ("low", re.compile(rf"\bau moins\s+{_NUMBER}", re.IGNORECASE)),
    ("high", re.compile(rf"\bau plus\s+{_NUMBER}", re.IGNORECASE)),
    ("low_strict", re.compile(rf"\bsup[ée]rieur\s+à\s+{_NUMBER}", re.IGNORECASE)),
    ("high_strict", re.compile(rf"\binf[ée]rieur\s+à\s+{_NUMBER}", re.IGNORECASE)),
    ("choices", re.compile(rf"\bparmi\s+({_CHOICE}(?:\s*,\s*{_CHOICE})*)", re.IGNORECASE)),
)


def _number(text: str) -> float:
    return float(text.replace(",", "."))


@dataclass(frozen=True)
class Bounds:
    """What a parameter accepts beyond its type, read from its help comment."""

    low: float | None = None
    low_strict: bool = False
    high: float | None = None
    high_strict: bool = False
    choices: tuple[Any, ...] | None = None

    @classmethod
    def parse(cls, help_text: str) -> Bounds:
        found: dict[str, Any] = {}
        for kind, pattern in _BOUND_PATTERNS:
            m = pattern.search(help_text or "")
            if not m:
                continue
            if kind == "range":
                found.update(low=_number(m.group(1)), high=_number(m.group(2)))
            elif kind in ("low", "low_strict"):
                found.update(low=_number(m.group(1)), low_strict=kind == "low_strict")
            elif kind in ("high", "high_strict"):
                found.update(high=_number(m.group(1)), high_strict=kind == "high_strict")
            else:
                found["choices"] = tuple(ast.literal_eval(f"({m.group(1)},)"))
        return cls(**found)

    @property
    def empty(self) -> bool:
        return self.low is None and self.high is None and self.choices is None

    def text(self) -> str:
        """The bounds in French (``entre 0.5 et 0.99``, ``parmi "NO2", "O3"``)."""
        parts = []
        if (
            self.low is not None
            and self.high is not None
            and not (self.low_strict or self.high_strict)
        ):
            parts.append(f"entre {self.low:g} et {self.high:g}")
        else:
            if self.low is not None:
                parts.append(f"{'supérieur à' if self.low_strict else 'au moins'} {self.low:g}")
            if self.high is not None:
                parts.append(f"{'inférieur à' if self.high_strict else 'au plus'} {self.high:g}")
        if self.choices is not None:
            parts.append(
                "parmi " + ", ".join(json.dumps(c, ensure_ascii=False) for c in self.choices)
            )
        return " et ".join(parts)

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is outside the bounds (French), or ``None`` when it is inside."""
        if self.choices is not None and value not in self.choices:
            return f"doit être {self.text()}"
        if not isinstance(value, int | float) or isinstance(value, bool):
            return None
        if not math.isfinite(value):
            return "doit être un nombre fini"
        too_low = self.low is not None and (
            value <= self.low if self.low_strict else value < self.low
        )
        too_high = self.high is not None and (
            value >= self.high if self.high_strict else value > self.high
        )
        return f"doit être {self.text()}" if too_low or too_high else None


@dataclass(frozen=True)
class NotebookParameter:
    name: str
    type_name: str  # "str", "int", "float", "bool", "list", "dict", "NoneType", "any"
    default: Any
    default_text: str
    help: str = ""
    nullable: bool = False  # None is accepted (the default is None, or ``X | None``)

    @property
    def label(self) -> str:
        label = TYPE_LABELS.get(self.type_name, self.type_name)
        return f"{label} ou None" if self.nullable and self.type_name != "NoneType" else label

    @property
    def bounds(self) -> Bounds:
        return Bounds.parse(self.help)


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
        nullable = default is None
        if annotated != "None":
            type_name, optional = _annotation(annotated)
            nullable = nullable or optional
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
            help=str(info.get("help") or "").lstrip(" ;:—-"),
            nullable=nullable,
        )
    return out


def _annotation(text: str) -> tuple[str, bool]:
    """``"float | None"`` → ``("float", True)``; ``"list[str]"`` → ``("list", False)``."""
    text = text.strip()
    if text.startswith("Optional[") and text.endswith("]"):
        return _annotation(text[len("Optional[") : -1])[0], True
    parts = [part.strip() for part in text.split("|")]
    kept = [part for part in parts if part not in ("None", "NoneType")]
    if len(kept) == 1:
        return kept[0].split("[")[0].strip(), len(kept) < len(parts)
    return "any", len(kept) < len(parts)


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


EXAMPLES = {
    "--param": ("NOM=VALEUR", "--param horizon_days=7"),
    "--map": ("LEUR_COLONNE=NOTRE_COLONNE", '--map "Nombre de repas=reel"'),
}


def split_assignment(item: str, option: str) -> tuple[str, str]:
    form, example = EXAMPLES.get(option, ("NOM=VALEUR", f"{option} nom=valeur"))
    if "=" not in item:
        raise ParameterError(
            f"Option {option} : « {item} » n'a pas la forme {form} (exemple : {example})."
        )
    name, value = item.split("=", 1)
    name = name.strip()
    if not name:
        raise ParameterError(
            f"Option {option} : nom manquant dans « {item} » (exemple : {example})."
        )
    return name, value


def check_map_targets(column_map: dict[str, str], known: list[str], entry_id: str) -> None:
    """Refuse ``--map`` targets that are not columns the entry reads (French, with the list)."""
    if not known:
        return
    unknown = [ours for ours in column_map.values() if ours not in known]
    if unknown:
        names = ", ".join(f"« {u} »" for u in unknown)
        raise ParameterError(
            f"Option --map : {names} n'est pas une colonne attendue par l'entrée « {entry_id} ». "
            f"La partie droite de --map est le nom attendu par l'entrée, parmi : "
            + ", ".join(f"« {k} »" for k in known)
            + f". Exemple : {EXAMPLES['--map'][1]}."
        )


def parse_map_args(items: list[str] | None) -> dict[str, str]:
    """``--map "leur colonne=notre_colonne"`` → ``{"leur colonne": "notre_colonne"}``."""
    mapping: dict[str, str] = {}
    for item in items or []:
        theirs, ours = split_assignment(item, "--map")
        ours = ours.strip()
        if not ours:
            raise ParameterError(
                f"Option --map : nom de colonne cible manquant dans « {item} » "
                f"(exemple : {EXAMPLES['--map'][1]})."
            )
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
        elif value is None and params[name].nullable:
            continue
        elif not _type_ok(value, params[name].type_name):
            p = params[name]
            problems.append(
                f"« {name} » attend une valeur de type {p.label} "
                f"(défaut : {p.default_text}), reçu : {value!r}."
            )
        else:
            p = params[name]
            why = p.bounds.problem(value)
            if why:
                problems.append(f"« {name} » {why} (défaut : {p.default_text}), reçu : {value!r}.")
    if problems:
        raise ParameterError(
            "Paramètres refusés :\n"
            + "\n".join(f"  - {p}" for p in problems)
            + "\nParamètres valides de ce notebook :\n"
            + describe(params)
        )
