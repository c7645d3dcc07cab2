"""The real open data shipped in datasets/ and the catalog snapshot: provenance and reading.

Every shipped real file is named, with its SHA-256, in a datasheet beside it; a hash that no
longer matches (a file replaced without updating its provenance) fails here.
"""

import gzip
import hashlib
import re
from pathlib import Path

import pytest

from hub.catalog.snapshot import SNAPSHOT_CSV, SNAPSHOT_DIR, ensure_import
from models.entries import REPO_ROOT
from models.errors import DataReadError
from models.io import read_table

SHIPPED = sorted(
    p
    for p in (REPO_ROOT / "datasets").glob("*/*")
    if p.name.endswith(".csv.gz") or p.name.startswith("nantes_lieux")
)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_real_files_are_shipped_for_every_entry():
    entries = {p.parent.name for p in SHIPPED}
    assert entries == {"canteen_attendance", "bike_counters", "air_quality"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_datasheet_gives_publisher_licence_and_hash(path):
    sheet = (path.parent / "README.md").read_text(encoding="utf-8")
    assert path.name in sheet
    assert _sha256(path) in sheet, f"SHA-256 of {path.name} missing or stale in its datasheet"
    if path.suffix == ".gz":
        original = hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()
        assert original in sheet, f"SHA-256 of the original of {path.name} missing"
    assert re.search(r"[Ll]icence", sheet) and ("ODbL" in sheet or "Licence Ouverte" in sheet)
    assert "Éditeur" in sheet or "éditeur" in sheet


def test_snapshot_provenance_matches_its_files():
    source = (SNAPSHOT_DIR / "SOURCE.md").read_text(encoding="utf-8")
    for name in ("bibliotheque_ia_territoriale.csv", "schema.json"):
        assert _sha256(SNAPSHOT_DIR / name) in source


def test_gzip_csv_reads_like_the_plain_file(tmp_path):
    plain = tmp_path / "f.csv"
    plain.write_text("date;reel\n01/02/2024;12,5\n02/02/2024;n/d\n", encoding="utf-8")
    packed = tmp_path / "f.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    a = read_table(plain, date_columns=["date"])
    b = read_table(packed, date_columns=["date"])
    assert a.equals(b)
    assert b["reel"].iloc[0] == 12.5
    assert read_table(packed.read_bytes(), date_columns=["date"]).equals(a)


def test_truncated_gzip_is_a_french_error(tmp_path):
    packed = tmp_path / "f.csv.gz"
    packed.write_bytes(gzip.compress(b"a;b\n1;2\n" * 1000)[:40])
    with pytest.raises(DataReadError, match="compressé"):
        read_table(packed)


def test_first_start_imports_the_snapshot_once(tmp_path):
    dest = tmp_path / "catalog" / "national.json"
    result = ensure_import(dest)
    assert result is not None and len(result.records) == 33
    assert dest.is_file()
    types = {r["fields"].get("Type_de_collectivite") for r in result.records}
    assert {"Métropole", "Communauté d'agglomérations"} <= types  # kept as given
    before = dest.read_bytes()
    assert ensure_import(dest) is None  # an existing import is never replaced
    assert dest.read_bytes() == before
    assert ensure_import(None) is None
    assert SNAPSHOT_CSV.is_file()
