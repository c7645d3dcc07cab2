"""The catalog in memory: records, full-text search, filters, facets, tier-filtered views.

Every view is built by ``visible_fields(record, tier)``: a field leaves the store only when
its tier (from the national model) is at most the viewer's tier. Search only looks into the
fields the viewer may see, so a match never reveals a hidden value.

A ``Catalog`` never changes once loaded (a new import makes a new one, see
``hub.catalog.service.CatalogSource``), so it keeps what it computed: each record's folded
search text per tier, the facets per tier, and the last ``SEARCH_CACHE`` searches per
(tier, query, filters). A new catalog starts with empty caches: that is the invalidation.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.catalog.importer import load_import
from hub.catalog.national import field_label, field_tier
from hub.catalog.normalise import fold
from hub.catalog.records import load_records
from hub.catalog.tiers import Tier

# Filter name (query argument) -> national field.
FILTERS: dict[str, str] = {
    "theme": "Theme",
    "type": "Type_de_collectivite",
    "statut": "Statut_du_projet",
    "audience": "Audience",
}
FILTER_LABELS = {
    "theme": "Thème",
    "type": "Type de collectivité",
    "statut": "Statut",
    "audience": "Audience",
}


def visible_fields(record: Mapping[str, Any], tier: Tier) -> dict[str, Any]:
    """The record's national fields that ``tier`` may see (nothing else)."""
    return {
        name: value
        for name, value in (record.get("fields") or {}).items()
        if field_tier(name) <= tier
    }


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def search_text(record: Mapping[str, Any], tier: Tier) -> str:
    parts: list[str] = []
    for value in visible_fields(record, tier).values():
        parts += _values(value)
    return fold(" ".join(parts))


def matches(
    record: Mapping[str, Any],
    tier: Tier,
    query: str,
    filters: Mapping[str, str],
    text: str | None = None,
) -> bool:
    """Whether ``record`` matches ``query`` and ``filters`` for ``tier`` (``text``: its
    ``search_text`` for that tier, when already computed)."""
    fields = visible_fields(record, tier)
    for key, wanted in filters.items():
        if not wanted:
            continue
        name = FILTERS.get(key)
        if name is None:
            continue
        if fold(wanted) not in {fold(v) for v in _values(fields.get(name))}:
            return False
    tokens = fold(query).split()
    if tokens:
        text = search_text(record, tier) if text is None else text
        return all(token in text for token in tokens)
    return True


def record_view(record: Mapping[str, Any], tier: Tier) -> dict[str, Any]:
    """What a viewer of ``tier`` receives about a record (API and pages)."""
    fields = visible_fields(record, tier)
    return {
        "id": record["id"],
        "origine": "biblio-ia" if record.get("origin") == "biblio-ia" else "national",
        "demonstrateur": bool((record.get("expert") or {}).get("launch")),
        "champs": fields,
        "libelles": {name: field_label(name) for name in fields},
    }


SEARCH_CACHE = 512


@dataclass
class Catalog:
    """All records: ours first (``hub/catalog/entries``), then the national import.

    Read-only once built: its caches (search texts, facets, recent searches) stay valid.
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    _texts: dict[tuple[str, Tier], str] = field(default_factory=dict, repr=False, compare=False)
    _facets: dict[Tier, dict] = field(default_factory=dict, repr=False, compare=False)
    _searches: OrderedDict = field(default_factory=OrderedDict, repr=False, compare=False)

    @classmethod
    def load(cls, repo_root: Path | str, import_file: Path | str | None = None) -> Catalog:
        ours, _ = load_records(repo_root)
        national = load_import(import_file) if import_file else []
        taken = {r["id"] for r in ours}
        records = list(ours)
        for rec in national:
            if rec["id"] in taken:
                rec = {**rec, "id": f"national-{rec['id']}"}
            taken.add(rec["id"])
            records.append(rec)
        return cls(records)

    def get(self, record_id: str) -> dict[str, Any] | None:
        for record in self.records:
            if record["id"] == record_id:
                return record
        return None

    def _text(self, record: Mapping[str, Any], tier: Tier) -> str:
        key = (record["id"], tier)
        text = self._texts.get(key)
        if text is None:
            text = self._texts[key] = search_text(record, tier)
        return text

    def search(
        self, tier: Tier, query: str = "", filters: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """The records ``tier`` finds with ``query`` and ``filters`` (the catalog's order)."""
        filters = {k: v for k, v in (filters or {}).items() if v}
        key = (tier, fold(query), tuple(sorted((k, fold(v)) for k, v in filters.items())))
        found = self._searches.get(key)
        if found is None:
            found = tuple(
                r for r in self.records if matches(r, tier, query, filters, self._text(r, tier))
            )
            self._searches[key] = found
            if len(self._searches) > SEARCH_CACHE:
                self._searches.popitem(last=False)
        else:
            self._searches.move_to_end(key)
        return list(found)

    def facets(self, tier: Tier = Tier.PUBLIC) -> dict[str, list[tuple[str, int]]]:
        """For each filter, the values present and their counts (most frequent first)."""
        if tier in self._facets:
            return {key: list(items) for key, items in self._facets[tier].items()}
        out: dict[str, list[tuple[str, int]]] = {}
        for key, name in FILTERS.items():
            counts: Counter[str] = Counter()
            for record in self.records:
                counts.update(set(_values(visible_fields(record, tier).get(name))))
            out[key] = sorted(counts.items(), key=lambda kv: (-kv[1], fold(kv[0])))
        self._facets[tier] = {key: tuple(items) for key, items in out.items()}
        return out

    def points(self, records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Map points (public fields only) of the records that have coordinates."""
        pts = []
        for r in records:
            f = visible_fields(r, Tier.PUBLIC)
            if isinstance(f.get("Latitude"), float) and isinstance(f.get("Longitude"), float):
                pts.append(
                    {
                        "id": r["id"],
                        "lat": f["Latitude"],
                        "lon": f["Longitude"],
                        "nom": f.get("Nom_du_projet", r["id"]),
                        "porteur": f.get("Nom_collectivite", ""),
                        "biblio": r.get("origin") == "biblio-ia",
                    }
                )
        return pts
