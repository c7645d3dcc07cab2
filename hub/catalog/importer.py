"""Import of a national catalog CSV export: read, normalise, validate, never drop a record.

``import_csv(path)`` returns an ``ImportResult``: one record per data row of the file (a row
whose project cannot be identified still becomes a record, with an error), and every
problem as a ``Problem`` (line of the file, record, field, level, French message).
``write_import(result, dest)`` stores the records as JSON atomically (temporary file then
``os.replace``); the catalog service reads that file at start.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hub.catalog import normalise as n
from hub.catalog.national import FIELDS, FIELDS_BY_NAME, FieldSpec
from hub.catalog.tiers import Tier
from models.errors import BiblioError
from models.fsutil import write_json

SINGLE_LINE_FIELDS = {"Nom_collectivite", "Nom_du_projet", "Partenaires", "SIRET"}


class CatalogImportError(BiblioError):
    """The file cannot be read as a catalog export at all (French message)."""


@dataclass(frozen=True)
class Problem:
    """One problem found in the file; ``line`` is the file line where the record starts."""

    level: str
    message: str
    line: int | None = None
    record: str | None = None
    field: str | None = None

    def to_text(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"ligne {self.line}")
        if self.record:
            where.append(self.record)
        if self.field:
            where.append(self.field)
        prefix = f"[{self.level}] " + (" · ".join(where) + " : " if where else "")
        return prefix + self.message


@dataclass
class ImportResult:
    source: str
    columns: list[str]
    records: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return dict(Counter(p.level for p in self.problems))

    @property
    def ok(self) -> bool:
        return not any(p.level == n.ERROR for p in self.problems)

    def to_text(self) -> str:
        counts = self.counts()
        lines = [
            f"Import de {self.source} : {len(self.records)} fiches importées "
            f"({len(self.columns)} colonnes).",
            "Bilan : "
            + ", ".join(
                f"{counts.get(level, 0)} {label}"
                for level, label in (
                    (n.ERROR, "erreur(s)"),
                    (n.WARNING, "avertissement(s)"),
                    (n.CORRECTED, "correction(s)"),
                    (n.INFO, "information(s)"),
                )
            )
            + ".",
        ]
        lines += [p.to_text() for p in self.problems]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "imported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "columns": self.columns,
            "records": self.records,
            "problems": [asdict(p) for p in self.problems],
        }


def slugify(text: str, limit: int = 60) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", n.fold(text)).strip("-")
    return slug[:limit].rstrip("-") or "fiche"


def read_rows(path: Path | str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and ``(start line, cells)`` of each data row; encoding and separator sniffed."""
    p = Path(path)
    if not p.is_file():
        raise CatalogImportError(f"Fichier « {p} » introuvable.")
    try:
        raw = p.read_bytes()
    except OSError:
        raise CatalogImportError(f"Impossible de lire le fichier « {p} » (droits ?).") from None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes almost anything
        raise CatalogImportError(f"Encodage du fichier « {p.name} » non reconnu.")
    if not text.strip():
        raise CatalogImportError(f"Le fichier « {p.name} » est vide.")
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
        rows: list[tuple[int, list[str]]] = []
        start = reader.line_num + 1
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise CatalogImportError(
            f"Le fichier « {p.name} » n'est pas un CSV lisible (ligne {reader.line_num}) : {exc}."
        ) from None
    return header, rows


def normalise_fields(
    raw: Mapping[str, Any], specs: Sequence[FieldSpec] = FIELDS
) -> tuple[dict[str, Any], list[tuple[str | None, str, str]]]:
    """Normalised national fields of one record, and ``(field, level, message)`` notes.

    Known fields are cleaned and checked against the model; unknown fields are kept as
    text (their tier is restreint). Empty values are left out of the record.
    """
    by_name = {s.name: s for s in specs}
    fields: dict[str, Any] = {}
    notes: list[tuple[str | None, str, str]] = []

    def note(name: str | None, items: list[n.Note]) -> None:
        notes.extend((name, level, message) for level, message in items)

    for name, value in raw.items():
        if name in ("Latitude", "Longitude") or value is None:
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        text, cleaned = n.clean_text(str(value), single_line=name in SINGLE_LINE_FIELDS)
        note(name, cleaned)
        if not text:
            continue
        if n.contains_html(text):
            note(name, [(n.WARNING, "contient du balisage HTML : affiché comme du texte")])
        spec = by_name.get(name) or FIELDS_BY_NAME.get(name)
        if spec is None:
            fields[name] = text
            continue
        if spec.kind == "siret":
            text, items = n.normalise_siret(text)
            note(name, items)
        elif spec.kind in ("date", "month_or_date"):
            note(name, n.check_date(text, month_allowed=spec.kind == "month_or_date"))
        elif spec.kind == "url":
            note(name, n.check_url(text))
        if spec.multi and spec.enum:
            values, items = n.normalise_multi(text, spec.enum)
            note(name, items)
            fields[name] = values
            continue
        if spec.enum:
            text, items = n.normalise_enum(text, spec.enum)
            note(name, items)
        fields[name] = text

    lat_raw, lon_raw = raw.get("Latitude"), raw.get("Longitude")
    if isinstance(lat_raw, int | float) and isinstance(lon_raw, int | float):
        lat_raw, lon_raw = repr(float(lat_raw)), repr(float(lon_raw))
    lat, lon, items = n.check_coordinates(str(lat_raw or ""), str(lon_raw or ""))
    note("Latitude/Longitude", items)
    if lat is not None and lon is not None:
        fields["Latitude"], fields["Longitude"] = lat, lon

    present_columns = set(raw)
    for spec in specs:
        if spec.required and spec.name in present_columns and spec.name not in fields:
            notes.append((spec.name, n.WARNING, "champ obligatoire vide"))
    return fields, notes


def import_csv(path: Path | str, specs: Sequence[FieldSpec] = FIELDS) -> ImportResult:
    """Read and check a national CSV export; see the module docstring."""
    header, rows = read_rows(path)
    result = ImportResult(source=Path(path).name, columns=header)
    known = {s.name for s in specs}
    unknown = [h for h in header if h and h not in known]
    if not {"Nom_collectivite", "Nom_du_projet"} & set(header):
        raise CatalogImportError(
            f"« {Path(path).name} » n'a ni colonne Nom_collectivite ni Nom_du_projet : "
            "ce n'est pas un export du catalogue national."
        )
    for name in unknown:
        result.problems.append(
            Problem(
                n.WARNING,
                f"colonne « {name} » inconnue du modèle national : importée en niveau restreint",
                field=name,
            )
        )
    missing_public = [s.name for s in specs if s.tier == Tier.PUBLIC and s.name not in header]
    missing_restricted = [
        s.name for s in specs if s.tier != Tier.PUBLIC and s.required and s.name not in header
    ]
    if missing_public:
        result.problems.append(
            Problem(
                n.INFO, "colonnes publiques absentes de l'export : " + ", ".join(missing_public)
            )
        )
    if missing_restricted:
        result.problems.append(
            Problem(
                n.INFO,
                "champs restreints obligatoires absents de l'export (normal pour un export "
                "public, à compléter par les collectivités) : " + ", ".join(missing_restricted),
            )
        )

    seen: Counter[str] = Counter()
    for line, cells in rows:
        if len(cells) != len(header):
            result.problems.append(
                Problem(
                    n.WARNING,
                    f"{len(cells)} valeurs pour {len(header)} colonnes : valeurs manquantes "
                    "laissées vides, valeurs en trop ignorées",
                    line=line,
                )
            )
        raw = {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header) if h}
        fields, notes = normalise_fields(raw, specs)
        name = " ".join(
            v for v in (fields.get("Nom_collectivite"), fields.get("Nom_du_projet")) if v
        )
        base = slugify(name) if name else f"ligne-{line}"
        seen[base] += 1
        record_id = base if seen[base] == 1 else f"{base}-{seen[base]}"
        if seen[base] > 1:
            notes.append(
                (
                    None,
                    n.WARNING,
                    f"doublon possible : même porteur et même projet "
                    f"qu'une fiche précédente (identifiant {record_id})",
                )
            )
        if not name:
            notes.append(
                (
                    None,
                    n.ERROR,
                    "ni porteur ni nom de projet : fiche importée sous "
                    f"l'identifiant {record_id}, à compléter",
                )
            )
        for fname, level, message in notes:
            result.problems.append(Problem(level, message, line, record_id, fname))
        result.records.append(
            {
                "id": record_id,
                "origin": "national",
                "line": line,
                "fields": fields,
                "problems": sum(1 for _, level, _ in notes if level in (n.WARNING, n.ERROR)),
            }
        )
    return result


def write_import(result: ImportResult, dest: Path | str) -> Path:
    """Write the import as JSON at ``dest`` atomically (temporary file then ``os.replace``)."""
    return write_json(dest, result.to_json(), indent=1)


def load_import(path: Path | str) -> list[dict[str, Any]]:
    """Records of an import file (empty list when the file does not exist)."""
    p = Path(path)
    if not p.exists():
        return []
    data = json.loads(p.read_text(encoding="utf-8"))
    return list(data.get("records", []))
