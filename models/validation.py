"""Validation of a data set against its Table Schema, with a French report of every problem.

``validate(df, schema)`` reads as steps: the required columns that are absent; the values the
reader could not read; each schema field converted to its type (numbers, integers, dates,
booleans), recording every value that cannot be converted; the constraints (``required``,
``minimum``, ``maximum``, ``enum``, ``pattern``, ``unique``, ``minLength``, ``maxLength``,
``primaryKey``) checked by a pandera schema built from the Table Schema, validated lazily so
that **all** problems come back at once; each failure turned into a French problem. Each
``Problem`` gives the 1-based data row and the file line (header included), the column and a
French message that uses the field's French ``title``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from models.errors import BiblioError, DataValidationError
from models.io import _NUMBER, _to_number_text, parse_dates

_TRUE = {"true", "vrai", "oui", "1", "yes", "o", "y", "t"}
_FALSE = {"false", "faux", "non", "0", "no", "n", "f"}
_MAX_LISTED = 5
_MAX_ENUM_SHOWN = 12

_TYPE_LABELS = {
    "integer": "un nombre entier",
    "number": "un nombre",
    "date": "une date (AAAA-MM-JJ ou JJ/MM/AAAA)",
    "datetime": "une date et heure",
    "boolean": "oui/non (vrai/faux, 1/0)",
    "year": "une année",
}


@dataclass(frozen=True)
class Problem:
    """One problem in the data; ``row`` is the 1-based data row (``None`` for the whole file).

    ``line`` is the line in the user's file (header counted), ``check`` a machine-readable
    code (``missing_column``, ``type``, ``required``, ``minimum``, ``maximum``, ``enum``,
    ``pattern``, ``unique``, ``primary_key``, ``min_length``, ``max_length``, ``other``).
    """

    row: int | None
    column: str | None
    message: str
    line: int | None = None
    check: str = "other"
    value: Any = None
    title: str | None = None

    def to_dict(self) -> dict[str, Any]:
        from models.contract import to_jsonable

        data = asdict(self)
        data["value"] = to_jsonable(data["value"])
        return data


def lines_fr(n: int) -> str:
    """``1 ligne``, ``2 lignes`` (French plural, thousands with a narrow space)."""
    return f"{n:,}".replace(",", "\u202f") + (" ligne" if abs(n) <= 1 else " lignes")


def summarise(problems: list[Problem], max_listed: int = _MAX_LISTED) -> list[str]:
    """French lines, one per problem, or one per column and kind when they are many."""

    def where(p: Problem) -> str:
        if p.row is None:
            return "Fichier"
        return f"Ligne {p.line}" if p.line is not None else f"Donnée n° {p.row}"

    if len(problems) <= 4 * max_listed:
        return [f"{where(p)} : {p.message}" for p in problems]
    groups: dict[tuple[str | None, str], list[Problem]] = {}
    for p in problems:
        groups.setdefault((p.column, p.check), []).append(p)
    lines = []
    for items in groups.values():
        if len(items) <= max_listed:
            lines += [f"{where(p)} : {p.message}" for p in items]
            continue
        first = items[0]
        shown = ", ".join(str(p.line or p.row) for p in items[:max_listed])
        lines.append(
            f"{lines_fr(len(items))} : {first.message} (lignes {shown}, …)"
            if first.row is not None
            else f"{len(items)} fois : {first.message}"
        )
    return lines


@dataclass
class ValidationReport:
    """All problems found in a data set, with French renderings.

    After ``models.acceptance.accept``: ``acceptance`` holds the rows set aside (row-level
    problems, moved out of ``problems``), the duplicates and the derived keys, and
    ``refusal`` the French reason why the file cannot be used at all (``None`` when usable).
    """

    problems: list[Problem] = field(default_factory=list)
    rows: int = 0
    first_data_line: int = 2
    schema_title: str | None = None
    file_columns: list[str] = field(default_factory=list)
    acceptance: Any = None
    refusal: str | None = None

    @property
    def ok(self) -> bool:
        """No problem at all: nothing refused, set aside, merged or derived."""
        noted = self.acceptance is not None and self.acceptance.noteworthy
        return not self.problems and not noted and self.refusal is None

    @property
    def all_problems(self) -> list[Problem]:
        """The problems of the whole file, then those of the rows set aside."""
        set_aside = self.acceptance.set_aside if self.acceptance is not None else []
        return [*self.problems, *set_aside]

    @property
    def usable(self) -> bool:
        """The file can be used: no structural problem and enough rows kept."""
        return self.refusal is None and not any(p.row is None for p in self.problems)

    def __bool__(self) -> bool:
        return self.ok

    def _where(self, p: Problem) -> str:
        if p.row is None:
            return "Fichier"
        return f"Ligne {p.line}" if p.line is not None else f"Donnée n° {p.row}"

    def _groups(self) -> list[tuple[tuple[str | None, str], list[Problem]]]:
        groups: dict[tuple[str | None, str], list[Problem]] = {}
        for p in self.problems:
            groups.setdefault((p.column, p.check), []).append(p)
        return list(groups.items())

    def summary_lines(self, max_listed: int = _MAX_LISTED) -> list[str]:
        """French lines, one per problem, or one per column and kind when they are many."""
        return summarise(self.problems, max_listed)

    def header(self) -> str:
        if self.ok:
            return f"Données valides : {lines_fr(self.rows)} conformes au schéma."
        if not self.problems and self.refusal is None:
            return self.acceptance.header()
        n = len(self.problems)
        text = (
            f"{n} problème{'s' if n > 1 else ''} dans les données ({lines_fr(self.rows)}). "
            "Les numéros de ligne sont ceux du fichier : la ligne 1 est l'en-tête, "
            f"la première ligne de données est la ligne {self.first_data_line}."
        )
        if any(p.check == "missing_column" for p in self.problems):
            listing = ", ".join(f"« {c} »" for c in self.file_columns) or "aucune"
            text += (
                f" Colonnes du fichier : {listing}. Si une colonne attendue porte un autre nom, "
                "indiquez la correspondance de colonnes (column_map)."
            )
        return text

    def to_text(self, max_listed: int = _MAX_LISTED) -> str:
        """French plain-text report: the refusal, the problems of the whole file, then what
        the acceptance did (rows set aside, duplicates, derived keys)."""
        if self.ok:
            return self.header()
        out = []
        if self.refusal is not None:
            out.append(f"Fichier refusé : {self.refusal}")
        if self.problems:
            out += [self.header(), *(f"- {line}" for line in self.summary_lines(max_listed))]
        if self.acceptance is not None:
            out.append(self.acceptance.header())
            out += self.acceptance.detail_lines(max_listed)
        return "\n".join(out)

    def to_markdown(self, max_listed: int = _MAX_LISTED) -> str:
        """French Markdown report: a table line, column, problem."""
        if self.ok:
            return f"✅ {self.header()}"
        if not self.problems:
            mark = "❌" if self.refusal is not None else "⚠️"
            head, _, rest = self.to_text(max_listed).partition("\n")
            return f"{mark} {head}" + (f"\n\n{rest}" if rest else "")
        out = [f"❌ {self.header()}", "", "| Ligne | Colonne | Problème |", "|---|---|---|"]
        for (_, _), items in self._groups():
            shown = items if len(items) <= max_listed else items[:max_listed]
            for p in shown:
                where = "—" if p.row is None else str(p.line or p.row)
                col = (p.title or p.column or "—").replace("|", "\\|")
                out.append(f"| {where} | {col} | {p.message.replace('|', chr(92) + '|')} |")
            if len(items) > len(shown):
                col = (items[0].title or items[0].column or "—").replace("|", "\\|")
                out.append(f"| … | {col} | et {len(items) - len(shown)} autres lignes |")
        return "\n".join(out)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def to_dict(self) -> dict[str, Any]:
        out = {
            "ok": self.ok,
            "usable": self.usable,
            "rows": self.rows,
            "first_data_line": self.first_data_line,
            "problems": [p.to_dict() for p in self.problems],
            "refusal": self.refusal,
        }
        if self.acceptance is not None:
            out["acceptance"] = self.acceptance.summary()
        return out

    def raise_if_errors(self) -> None:
        """Raise ``DataValidationError`` (French report as message) if there is any problem."""
        if not self.ok:
            raise DataValidationError(self)

    def raise_if_refused(self) -> None:
        """Raise ``DataValidationError`` (French report) when the file cannot be used at all;
        rows set aside do not raise."""
        if not self.usable:
            raise DataValidationError(self)


def load_schema(path_or_entry_id: Any) -> dict[str, Any]:
    """Read a Table Schema from a path, or from ``datasets/<entry_id>/schema.json``."""
    if isinstance(path_or_entry_id, dict):
        schema = path_or_entry_id
    else:
        path = Path(path_or_entry_id)
        if not path.exists() and not str(path_or_entry_id).endswith(".json"):
            from models.contract import entry_paths

            path = entry_paths(str(path_or_entry_id)).schema
        if not path.is_file():
            raise BiblioError(f"Schéma introuvable : « {path} ».")
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BiblioError(f"Le schéma « {path} » n'est pas un JSON valide : {exc}.") from exc
    if not isinstance(schema, dict) or not isinstance(schema.get("fields"), list):
        raise BiblioError("Le schéma doit être un objet Table Schema avec une liste « fields ».")
    return schema


def _label(f: dict[str, Any]) -> str:
    title = f.get("title")
    return f"« {title} » ({f['name']})" if title and title != f["name"] else f"« {f['name']} »"


def _fmt(value: Any) -> str:
    if isinstance(value, np.datetime64 | dt.datetime):
        value = pd.Timestamp(value)
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _coerce(values: pd.Series, kind: str) -> tuple[pd.Series, pd.Series]:
    """Convert ``values`` to the Table Schema ``kind``; returns (converted, bad-value mask)."""
    present = values.notna()
    if kind in ("number", "integer", "year"):
        if pd.api.types.is_bool_dtype(values):
            values = values.astype("float64")
        if pd.api.types.is_numeric_dtype(values):
            num = values.astype("float64")
            bad = pd.Series(False, index=values.index)
        else:
            text = _to_number_text(values)
            ok = text.str.match(_NUMBER).fillna(False).astype(bool)
            num = pd.to_numeric(text.where(ok), errors="coerce").astype("float64")
            bad = present & ~ok
        if kind in ("integer", "year"):
            frac = num.notna() & (np.mod(num.fillna(0), 1) != 0)
            bad = bad | frac
            num = num.mask(frac)
        return num, bad
    if kind in ("date", "datetime"):
        parsed = parse_dates(values)
        return parsed, present & parsed.isna()
    if kind == "boolean":
        if pd.api.types.is_bool_dtype(values):
            return values, pd.Series(False, index=values.index)
        text = values.astype("string").str.strip().str.lower()
        out = pd.Series(np.nan, index=values.index, dtype="object")
        out[text.isin(_TRUE).fillna(False).astype(bool)] = True
        out[text.isin(_FALSE).fillna(False).astype(bool)] = False
        return out, present & out.isna()
    if kind == "string" and not (
        pd.api.types.is_string_dtype(values) or pd.api.types.is_object_dtype(values)
    ):
        text = values.map(_fmt, na_action="ignore").astype("str")
        return text, pd.Series(False, index=values.index)
    return values, pd.Series(False, index=values.index)


def _checks(f: dict[str, Any]) -> list[pa.Check]:
    c = f.get("constraints", {}) or {}
    kind = f.get("type", "string")
    checks: list[pa.Check] = []

    def bound(v: Any) -> Any:
        return pd.Timestamp(v) if kind in ("date", "datetime") else v

    if "minimum" in c:
        checks.append(pa.Check.ge(bound(c["minimum"]), error="minimum"))
    if "maximum" in c:
        checks.append(pa.Check.le(bound(c["maximum"]), error="maximum"))
    if "exclusiveMinimum" in c:
        checks.append(pa.Check.gt(bound(c["exclusiveMinimum"]), error="exclusive_minimum"))
    if "exclusiveMaximum" in c:
        checks.append(pa.Check.lt(bound(c["exclusiveMaximum"]), error="exclusive_maximum"))
    if "enum" in c:
        allowed = list(c["enum"])
        if kind in ("number", "integer", "year"):
            allowed = [float(v) for v in allowed]
        checks.append(pa.Check.isin(allowed, error="enum"))
    if "pattern" in c and kind == "string":
        checks.append(pa.Check.str_matches(rf"(?:{c['pattern']})\Z", error="pattern"))
    if "minLength" in c:
        checks.append(pa.Check.str_length(min_value=c["minLength"], error="min_length"))
    if "maxLength" in c:
        checks.append(pa.Check.str_length(max_value=c["maxLength"], error="max_length"))
    return checks


def _message(check: str, f: dict[str, Any], value: Any, key: list[str]) -> tuple[str, str]:
    c = f.get("constraints", {}) or {}
    label = _label(f)
    shown = _fmt(value)
    if check == "not_nullable":
        return "required", f"{label} : valeur manquante (obligatoire)."
    if check == "minimum":
        return "minimum", f"{label} : {shown} est inférieur au minimum {_fmt(c['minimum'])}."
    if check == "maximum":
        return "maximum", f"{label} : {shown} dépasse le maximum {_fmt(c['maximum'])}."
    if check == "exclusive_minimum":
        return "minimum", f"{label} : {shown} doit être supérieur à {_fmt(c['exclusiveMinimum'])}."
    if check == "exclusive_maximum":
        return "maximum", f"{label} : {shown} doit être inférieur à {_fmt(c['exclusiveMaximum'])}."
    if check == "enum":
        allowed = [str(v) for v in c.get("enum", [])]
        more = ", …" if len(allowed) > _MAX_ENUM_SHOWN else ""
        listing = ", ".join(f"« {v} »" for v in allowed[:_MAX_ENUM_SHOWN]) + more
        return "enum", f"{label} : « {shown} » n'est pas une valeur autorisée ({listing})."
    if check == "pattern":
        return "pattern", (
            f"{label} : « {shown} » ne respecte pas le format attendu ({c.get('pattern')})."
        )
    if check == "min_length":
        return "min_length", f"{label} : « {shown} » est trop court (min. {c['minLength']})."
    if check == "max_length":
        return "max_length", f"{label} : « {shown} » est trop long (max. {c['maxLength']})."
    if check == "field_uniqueness":
        return "unique", f"{label} : « {shown} » apparaît plusieurs fois (valeur unique attendue)."
    if check == "multiple_fields_uniqueness":
        names = ", ".join(key)
        shown = ", ".join(str(v) for v in value) if isinstance(value, tuple) else shown
        return "primary_key", (f"ligne en double : même clé ({names}) = ({shown}).")
    return "other", f"{label} : « {shown} » refusé ({check})."


@dataclass
class _Run:
    """What the steps of ``validate`` share: the schema's fields, row numbers, the report."""

    fields: list[dict[str, Any]]
    primary_key: list[str]
    offset: int
    row_numbers: np.ndarray
    report: ValidationReport
    already: set[tuple[int, str]] = field(default_factory=set)
    """(row, column) pairs that already have a type problem (reported once)."""

    @property
    def by_name(self) -> dict[str, dict[str, Any]]:
        return {f["name"]: f for f in self.fields}

    def required(self, f: dict[str, Any]) -> bool:
        return bool((f.get("constraints") or {}).get("required")) or f["name"] in self.primary_key


def validate(
    df: pd.DataFrame, schema: Any, *, first_data_line: int | None = None
) -> ValidationReport:
    """Check ``df`` against a Table Schema (dict, path or entry id) and collect every problem.

    Row numbers: when ``df`` has an integer index (as ``models.io.read_table`` returns, even
    after sorting), ``row = index + 1`` is the data row of the user's file; otherwise the
    position is used. ``first_data_line`` (default ``df.attrs["first_data_line"]`` or 2) is the
    file line of data row 1. Values that ``read_table`` could not read
    (``df.attrs["read_problems"]``) are reported too. Never raises for a data problem.
    """
    run = _start(df, load_schema(schema), first_data_line)
    _missing_columns(run, df)
    _read_problems(run, df)
    work, columns = _convert_types(run, df)
    failures = _check_constraints(run, work, columns)
    _constraint_problems(run, work, failures)
    return _sorted(run)


def _start(df: pd.DataFrame, schema: dict[str, Any], first_data_line: int | None) -> _Run:
    """The fields, the primary key, the file line of each row and an empty report."""
    fields = [f for f in schema["fields"] if isinstance(f, dict) and "name" in f]
    if first_data_line is None:
        first_data_line = int(df.attrs.get("first_data_line", 2))
    if pd.api.types.is_integer_dtype(df.index) and len(df.index) and df.index.min() >= 0:
        row_numbers = np.asarray(df.index, dtype="int64") + 1
    else:
        row_numbers = np.arange(1, len(df) + 1)
    report = ValidationReport(
        rows=len(df), first_data_line=first_data_line, schema_title=schema.get("title")
    )
    primary_key = schema.get("primaryKey") or []
    if isinstance(primary_key, str):
        primary_key = [primary_key]
    return _Run(fields, list(primary_key), first_data_line - 1, row_numbers, report)


def _missing_columns(run: _Run, df: pd.DataFrame) -> None:
    """A problem for each required column absent from the file."""
    run.report.file_columns = [str(c) for c in df.columns]
    for f in run.fields:
        if f["name"] not in df.columns and run.required(f):
            run.report.problems.append(
                Problem(
                    row=None,
                    column=f["name"],
                    check="missing_column",
                    title=f.get("title"),
                    message=f"Colonne obligatoire absente : {_label(f)}.",
                )
            )


def _read_problems(run: _Run, df: pd.DataFrame) -> None:
    """A type problem for each value the reader could not read (``attrs["read_problems"]``)."""
    by_name = run.by_name
    for item in df.attrs.get("read_problems", []) or []:
        f = by_name.get(item.get("column"), {"name": item.get("column")})
        row = int(item["row"])
        kind = f.get("type", "date")
        run.report.problems.append(
            Problem(
                row=row,
                column=f["name"],
                line=row + run.offset,
                check="type",
                value=item.get("value"),
                title=f.get("title"),
                message=(
                    f"{_label(f)} : « {item.get('value')} » n'est pas "
                    f"{_TYPE_LABELS.get(kind, 'une valeur lisible')}."
                ),
            )
        )
        run.already.add((row, f["name"]))


def _convert_types(run: _Run, df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, pa.Column]]:
    """Each field converted to its type (a problem per value that cannot be), and the pandera
    column of its constraints."""
    work = df.reset_index(drop=True)
    work.attrs = {}
    columns: dict[str, pa.Column] = {}
    for f in run.fields:
        name = f["name"]
        if name not in work.columns:
            continue
        kind = f.get("type", "string")
        converted, bad = _coerce(work[name], kind)
        for pos in np.flatnonzero(bad.to_numpy()):
            row = int(run.row_numbers[pos])
            if (row, name) in run.already:
                continue
            raw = work[name].iloc[pos]
            run.report.problems.append(
                Problem(
                    row=row,
                    column=name,
                    line=row + run.offset,
                    check="type",
                    value=raw,
                    title=f.get("title"),
                    message=(
                        f"{_label(f)} : « {_fmt(raw)} » n'est pas "
                        f"{_TYPE_LABELS.get(kind, 'une valeur valide')}."
                    ),
                )
            )
            run.already.add((row, name))
        work[name] = converted
        constraints = f.get("constraints") or {}
        columns[name] = pa.Column(
            checks=_checks(f),
            nullable=not run.required(f),
            unique=bool(constraints.get("unique")),
            required=False,
        )
    return work, columns


def _key(run: _Run, work: pd.DataFrame) -> list[str]:
    """The primary key when every one of its columns is in the file."""
    return list(run.primary_key) if all(k in work.columns for k in run.primary_key) else []


def _check_constraints(
    run: _Run, work: pd.DataFrame, columns: dict[str, pa.Column]
) -> pd.DataFrame:
    """Every constraint failure at once (pandera, lazy): one row per failing value."""
    key = _key(run, work)
    if len(key) == 1 and key[0] in columns:
        columns[key[0]].unique = True
    pandera_schema = pa.DataFrameSchema(
        columns, unique=key if len(key) > 1 else None, strict=False, coerce=False
    )
    failures = pd.DataFrame()
    try:
        pandera_schema.validate(work, lazy=True)
    except SchemaErrors as exc:
        failures = exc.failure_cases
    except SchemaError as exc:
        failures = getattr(exc, "failure_cases", None)
        if failures is None:
            run.report.problems.append(
                Problem(None, None, f"Données refusées : {exc}.", check="other")
            )
            failures = pd.DataFrame()
    return failures


def _constraint_problems(run: _Run, work: pd.DataFrame, failures: pd.DataFrame) -> None:
    """A French problem per constraint failure; a duplicate points to the first occurrence."""
    by_name = run.by_name
    key = _key(run, work)
    seen_pk: set[int] = set()
    key_values = [work[k].to_numpy() for k in key]

    def first_of(columns: list[str]) -> np.ndarray:
        """Position of the first row holding the same values in ``columns`` (itself if first)."""
        codes = work.groupby(columns, sort=False, dropna=False).ngroup().to_numpy()
        first = pd.Series(np.arange(len(work))).groupby(codes).transform("min")
        return first.to_numpy()

    first_cache: dict[tuple[str, ...], np.ndarray] = {}
    for case in failures.itertuples(index=False):
        col, check, value, pos = case.column, str(case.check), case.failure_case, case.index
        if pos is None or (isinstance(pos, float) and np.isnan(pos)):
            continue  # column-level failures (dtype): type problems are reported above
        pos = int(pos)
        row = int(run.row_numbers[pos])
        f = by_name.get(col, {"name": col})
        first_line = None
        if check in ("multiple_fields_uniqueness", "field_uniqueness"):
            group = tuple(key) if check == "multiple_fields_uniqueness" else (col,)
            if group not in first_cache:
                first_cache[group] = first_of(list(group))
            first_pos = int(first_cache[group][pos])
            if first_pos == pos or (check == "multiple_fields_uniqueness" and pos in seen_pk):
                continue  # the first occurrence is not a problem; later ones point to it
            first_line = int(run.row_numbers[first_pos]) + run.offset
            if check == "multiple_fields_uniqueness":
                seen_pk.add(pos)
                col = ", ".join(key)
                value = tuple(_fmt(values[pos]) for values in key_values)
        elif check == "not_nullable" and (row, col) in run.already:
            continue
        code, message = _message(check, f, value, key)
        if first_line is not None:
            message = message.rstrip(".") + f" (déjà en ligne {first_line})."
        run.report.problems.append(
            Problem(
                row=row,
                column=col,
                line=row + run.offset,
                check=code,
                value=value,
                title=f.get("title"),
                message=message,
            )
        )


def _sorted(run: _Run) -> ValidationReport:
    """The report, problems of the whole file first, then by row and schema column order."""
    order = {f["name"]: i for i, f in enumerate(run.fields)}
    run.report.problems.sort(
        key=lambda p: (p.row is not None, p.row or 0, order.get(p.column or "", 999))
    )
    return run.report
