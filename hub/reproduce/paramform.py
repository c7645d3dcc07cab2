"""The parameters form of an analysis, generated from the notebook's ``parameters`` cell.

``form_fields(notebook)`` lists the parameters a user may set (not the runner's own:
``data_path``, ``column_map``, ``output_dir``, ``min_share``), each with a French label (the
comment of its line in the cell, without its bounds), its type, default and bounds (``# entre
A et B``, ``parmi ...``: ``hub.runner.params.Bounds``). ``values_from_form(form, fields,
params)`` reads the submitted text with the runner's own parser
(``hub.runner.params.parse_value``) and checks it as ``biblio run --param`` does
(``check_parameters``: type and bounds), raising ``ParameterError`` in French.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # nbformat (hence jsonschema) is imported when a form is built, not before
    from hub.runner.params import NotebookParameter

QUICK = "quick"
# Paths of files on the server (e.g. weather_path): never set from a web form.
SERVER_PATHS = ("_path", "_dir")
LABELS = {
    QUICK: "Mode rapide (moins de calculs, résultats en quelques secondes)",
}
INPUTS = {"bool": "checkbox", "int": "number", "float": "number"}


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    type_name: str
    type_label: str
    input: str  # "checkbox", "number", "select" or "text"
    default: Any
    default_text: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] = ()
    bounds_text: str = ""

    @property
    def step(self) -> str:
        return "1" if self.type_name == "int" else "any"

    def shown(self, value: Any) -> str:
        """Text of ``value`` in the form's input."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return "True" if value else "False"
        if isinstance(value, str):
            return value
        return repr(value) if isinstance(value, list | dict) else str(value)


_BOUND_WORDS = re.compile(
    r"[,;(]?\s*\b(entre|au moins|au plus|supérieur à|inférieur à|parmi)\b.*$", re.IGNORECASE
)


def _label(p: NotebookParameter) -> str:
    """The comment of the parameter's line without its bounds, else its name."""
    if p.name in LABELS:
        return LABELS[p.name]
    words = p.name.replace("_", " ")
    text = _BOUND_WORDS.sub("", (p.help or "").strip()).strip(" ,;")
    if text.lower().startswith(("par ", "pour ")):  # a precision of the name
        text = f"{words} {text}"
    text = text or words
    return text[:1].upper() + text[1:]


def form_fields(notebook: Path | str) -> list[FormField]:
    """The fields of the parameters form, in the cell's order (``quick`` first)."""
    from hub.runner.params import RESERVED, notebook_parameters

    found = notebook_parameters(notebook)
    out = []
    for p in found.values():
        if p.name in RESERVED or p.name.endswith(SERVER_PATHS):
            continue
        bounds = p.bounds
        choices = tuple(bounds.choices or ())
        out.append(
            FormField(
                name=p.name,
                label=_label(p),
                type_name=p.type_name,
                type_label=p.label,
                input="select" if choices else INPUTS.get(p.type_name, "text"),
                default=p.default,
                default_text=p.default_text,
                minimum=bounds.low,
                maximum=bounds.high,
                choices=choices,
                bounds_text=bounds.text(),
            )
        )
    out.sort(key=lambda f: f.name != QUICK)
    return out


def values_from_form(
    form: dict[str, str], fields: list[FormField], params: dict[str, NotebookParameter]
) -> dict[str, Any]:
    """Checked values of the submitted form (absent checkbox = False)."""
    from hub.runner.params import check_parameters, parse_value

    values: dict[str, Any] = {}
    for f in fields:
        if f.input == "checkbox":
            values[f.name] = form.get(f.name, "") in ("on", "1", "true", "True")
            continue
        raw = form.get(f.name)
        if raw is None or raw.strip() == "":
            values[f.name] = f.default
            continue
        text = raw.strip().replace(",", ".") if f.input == "number" else raw
        value = parse_value(text, f.type_name)
        if f.type_name == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        values[f.name] = value
    check_parameters(values, params)  # types and bounds, as biblio run
    return values
