"""Safe normalisations and checks of national catalog values, one plain function each.

Every function takes a raw value and returns the value to keep plus French notes; a note
is ``(level, message)`` where level is ``"corrigé"`` (a safe normalisation was applied) or
``"avertissement"`` (the value is kept as given but does not match the national model).
Nothing here guesses a meaning: an unknown enum value is kept and reported, never replaced.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

CORRECTED = "corrigé"
WARNING = "avertissement"
ERROR = "erreur"
INFO = "information"

Note = tuple[str, str]

_SPACES = re.compile(r"[ \t\u00a0\u202f]+")
_HTML = re.compile(r"<\s*[a-zA-Z!/][^>]*>")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})

# Bounding boxes (lat_min, lat_max, lon_min, lon_max) where French collectivités lie.
FRANCE_BOXES: dict[str, tuple[float, float, float, float]] = {
    "métropole": (41.0, 51.5, -5.6, 9.9),
    "Guadeloupe": (15.8, 16.6, -61.9, -60.9),
    "Martinique": (14.3, 14.9, -61.3, -60.8),
    "Guyane": (2.0, 6.0, -54.7, -51.5),
    "La Réunion": (-21.5, -20.8, 55.1, 55.9),
    "Mayotte": (-13.1, -12.6, 44.9, 45.4),
}


def fold(text: str) -> str:
    """Comparison key: no accents, lower case, straight apostrophes, single spaces."""
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _SPACES.sub(" ", text).strip().lower()


def clean_text(value: str, *, single_line: bool) -> tuple[str, list[Note]]:
    """Strip surrounding spaces; in names (``single_line``) replace line breaks by spaces."""
    notes: list[Note] = []
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if single_line and "\n" in text:
        text = " ".join(part.strip() for part in text.split("\n"))
        notes.append((CORRECTED, "retours à la ligne remplacés par des espaces"))
    if single_line:
        text = _SPACES.sub(" ", text)
    cleaned = "\n".join(line.rstrip() for line in text.split("\n")).strip()
    if cleaned != value.replace("\r\n", "\n") and not notes:
        notes.append((CORRECTED, "espaces superflus supprimés"))
    return cleaned, notes


def contains_html(value: str) -> bool:
    return bool(_HTML.search(value))


def _variant_key(text: str) -> str:
    """Key that also ignores a feminine/plural ending (« Terminé » ~ « Terminée »)."""
    key = fold(text)
    return re.sub(r"(ee?s?|s)\b", "", key)


def match_enum(value: str, enum: Sequence[str]) -> str | None:
    """The enum value ``value`` spells (accents, case, apostrophes, gender, plural), or None."""
    if value in enum:
        return value
    key = fold(value)
    for item in enum:
        if fold(item) == key:
            return item
    key = _variant_key(value)
    matches = [item for item in enum if _variant_key(item) == key]
    return matches[0] if len(matches) == 1 else None


def normalise_enum(value: str, enum: Sequence[str]) -> tuple[str, list[Note]]:
    """Canonical spelling of an enum value; an unknown value is kept and reported."""
    found = match_enum(value, enum)
    if found is None:
        return value, [(WARNING, f"« {value} » ne fait pas partie des valeurs du modèle national")]
    if found != value:
        return found, [(CORRECTED, f"« {value} » normalisé en « {found} »")]
    return found, []


def split_multi(value: str, enum: Sequence[str]) -> list[str]:
    """Split a comma-separated list, re-joining parts when the join is an enum value."""
    parts = [p.strip() for p in re.split(r"[,;]", value)]
    items: list[str] = []
    i = 0
    while i < len(parts):
        joined = None
        for j in range(len(parts), i + 1, -1):
            candidate = ", ".join(parts[i:j])
            if match_enum(candidate, enum) is not None:
                joined, i = candidate, j
                break
        if joined is None:
            joined, i = parts[i], i + 1
        if joined:
            items.append(joined)
    return items


def normalise_multi(value: str, enum: Sequence[str]) -> tuple[list[str], list[Note]]:
    """Each value of a comma-separated list normalised like ``normalise_enum``."""
    items: list[str] = []
    notes: list[Note] = []
    for item in split_multi(value, enum):
        kept, item_notes = normalise_enum(item, enum)
        notes.extend(item_notes)
        if kept not in items:
            items.append(kept)
    return items, notes


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def normalise_siret(value: str) -> tuple[str, list[Note]]:
    """Remove spaces and dots; check 14 digits and the Luhn key (La Poste excepted)."""
    notes: list[Note] = []
    compact = re.sub(r"[\s.\u00a0\u202f-]", "", value)
    if compact != value:
        notes.append((CORRECTED, f"SIRET « {value} » écrit sans espaces : {compact}"))
    if not (compact.isdigit() and len(compact) == 14):
        notes.append(
            (WARNING, f"SIRET « {value} » mal formé : 14 chiffres attendus (9 SIREN + 5 NIC)")
        )
        return compact, notes
    if not compact.startswith("356000000") and not luhn_ok(compact):
        notes.append((WARNING, f"SIRET {compact} invalide : la clé de contrôle (Luhn) est fausse"))
    return compact, notes


def parse_number(value: str) -> float | None:
    text = value.strip().replace("\u00a0", "").replace(" ", "")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def where_in_france(lat: float, lon: float) -> str | None:
    for name, (la0, la1, lo0, lo1) in FRANCE_BOXES.items():
        if la0 <= lat <= la1 and lo0 <= lon <= lo1:
            return name
    return None


def check_coordinates(lat_raw: str, lon_raw: str) -> tuple[float | None, float | None, list[Note]]:
    """Parse latitude and longitude; report unreadable, out-of-range or swapped values.

    A reported pair is kept out of the map (``None``) but the raw text is reported.
    """
    if not lat_raw.strip() and not lon_raw.strip():
        return (
            None,
            None,
            [(WARNING, "coordonnées absentes : le projet n'est pas placé sur la carte")],
        )
    lat, lon = parse_number(lat_raw), parse_number(lon_raw)
    if lat is None or lon is None:
        return (
            None,
            None,
            [
                (
                    WARNING,
                    f"coordonnées illisibles (latitude « {lat_raw} », longitude « {lon_raw} »)",
                )
            ],
        )
    notes: list[Note] = []
    if "," in lat_raw or "," in lon_raw:
        notes.append((CORRECTED, "virgule décimale des coordonnées remplacée par un point"))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        notes.append((WARNING, f"coordonnées hors limites (latitude {lat}, longitude {lon})"))
        return None, None, notes
    if where_in_france(lat, lon) is None:
        if where_in_france(lon, lat) is not None:
            notes.append(
                (WARNING, f"latitude {lat} et longitude {lon} semblent inversées : à vérifier")
            )
        else:
            notes.append((WARNING, f"coordonnées ({lat}, {lon}) hors de France"))
        return None, None, notes
    return lat, lon, notes


_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
_MONTH = re.compile(r"^(\d{2})/(\d{4})$")


def check_date(value: str, *, month_allowed: bool) -> list[Note]:
    """Check ``JJ/MM/AAAA`` (or ``MM/AAAA`` when allowed)."""
    m = _DATE.match(value)
    if m:
        day, month = int(m.group(1)), int(m.group(2))
        if 1 <= day <= 31 and 1 <= month <= 12:
            return []
    m = _MONTH.match(value)
    if month_allowed and m and 1 <= int(m.group(1)) <= 12:
        return []
    expected = "JJ/MM/AAAA ou MM/AAAA" if month_allowed else "JJ/MM/AAAA"
    return [(WARNING, f"date « {value} » mal formée : {expected} attendu")]


def safe_url(value: str) -> bool:
    """True for an absolute http(s) URL: only such URLs are ever rendered as links."""
    return bool(re.match(r"^https?://[^\s<>\"']+$", value.strip(), flags=re.IGNORECASE))


def check_url(value: str) -> list[Note]:
    if safe_url(value):
        return []
    return [
        (WARNING, f"lien « {value[:80]} » non http(s) : affiché comme texte, jamais comme lien")
    ]
