"""Unit tests of the catalog store: national model, normalisation, import, records, views."""

import json
from pathlib import Path

import pytest
from traitlets.config import Config

from hub.catalog import normalise as n
from hub.catalog.config import catalog_roles, catalog_service, configure_catalog, merge_roles
from hub.catalog.importer import CatalogImportError, import_csv, load_import, write_import
from hub.catalog.national import (
    FIELDS,
    PUBLIC_FIELDS,
    RESTREINT_FIELDS,
    field_tier,
    fields_from_table_schema,
)
from hub.catalog.records import (
    check_expert_files,
    load_records,
    read_record,
    scaffold_record,
)
from hub.catalog.store import Catalog, record_view, visible_fields
from hub.catalog.tiers import SCOPE_EXPERT, SCOPE_RESTREINT, Tier, tier_from_scopes
from hub.config.settings import Settings

REPO = Path(__file__).resolve().parents[2]
REALDATA = REPO / ".." / "shared" / "realdata" / "bibliotheque"
OUR_ENTRIES = ("air_quality", "bike_counters", "canteen_attendance")

HEADER = (
    "Nom_collectivite,Nom_du_projet,SIRET,Latitude,Longitude,Type_de_collectivite,"
    "Date_de_demarrage,Statut_du_projet,Partenaires,Description_service,Theme,Sous_Theme,"
    "Audience,URL_Service,URL_Logo,Date_de_derniere_mise_a_jour\n"
)


def write_csv(tmp_path, rows, header=HEADER, encoding="utf-8"):
    path = tmp_path / "export.csv"
    path.write_text(header + "".join(rows), encoding=encoding)
    return path


GOOD = (
    "Ville de Test,Projet A,21750001600019,48.85,2.35,Commune,01/2024,Terminée,X,"
    '"Une description.",Mobilités,"Flux et trafic",Agent,https://a.fr,https://a.fr/l.png,'
    "01/02/2025\n"
)


def test_sources_public_and_restricted_lists_are_the_national_tiers():
    assert set(PUBLIC_FIELDS) == {
        "Nom_collectivite", "Nom_du_projet", "SIRET", "Type_de_collectivite",
        "Date_de_demarrage", "Statut_du_projet", "status_abandon", "Partenaires",
        "Description_service", "Theme", "Sous_Theme", "Audience", "URL_Service", "URL_Logo",
        "Longitude", "Latitude", "Date_de_derniere_mise_a_jour",
    }  # fmt: skip
    for name in ("projet_contact", "financement", "budget", "mise_en_oeuvre", "herbergement",
                 "nom_algorithme", "algorithme_description", "algorithme_operations",
                 "type_algorithme", "impact_environnement", "donnees_source", "donnees_acces",
                 "url_ressources"):  # fmt: skip
        assert name in RESTREINT_FIELDS
    assert field_tier("a_field_nobody_classified") == Tier.RESTREINT


def test_tier_from_scopes():
    assert tier_from_scopes(None) == Tier.PUBLIC
    assert tier_from_scopes(["read:users!user"]) == Tier.PUBLIC
    assert tier_from_scopes([SCOPE_RESTREINT]) == Tier.RESTREINT
    assert tier_from_scopes([SCOPE_EXPERT]) == Tier.EXPERT
    assert tier_from_scopes([SCOPE_RESTREINT, SCOPE_EXPERT]) == Tier.EXPERT


@pytest.mark.realdata
def test_embedded_model_matches_the_national_schema_file():
    schema_file = REALDATA / "schema.json"
    if not schema_file.exists():
        pytest.skip("../shared/realdata absent")
    specs = fields_from_table_schema(json.loads(schema_file.read_text("utf-8")))
    ours = {f.name: f for f in FIELDS}
    assert [s.name for s in specs] == [f.name for f in FIELDS]
    for spec in specs:
        assert spec.enum == ours[spec.name].enum, spec.name
        assert spec.required == ours[spec.name].required, spec.name


@pytest.mark.parametrize(
    ("raw", "enum", "expected", "level"),
    [
        ("Terminé", "statut", "Terminée", n.CORRECTED),
        ("Terminée", "statut", "Terminée", None),
        ("terminee", "statut", "Terminée", n.CORRECTED),
        ("Métropole", "type", "Métropole", n.WARNING),
        ("Élu", "audience", "Elu", n.CORRECTED),
    ],
)
def test_enum_variants(raw, enum, expected, level):
    from hub.catalog.national import AUDIENCES, STATUTS, TYPES_COLLECTIVITE

    values = {"statut": STATUTS, "type": TYPES_COLLECTIVITE, "audience": AUDIENCES}[enum]
    kept, notes = n.normalise_enum(raw, values)
    assert kept == expected
    assert [lvl for lvl, _ in notes] == ([level] if level else [])


def test_multi_values_keep_commas_inside_enum_values():
    from hub.catalog.national import THEMES

    assert n.split_multi("Citoyenneté, santé et solidarité, Mobilités", THEMES) == [
        "Citoyenneté, santé et solidarité",
        "Mobilités",
    ]


def test_siret_spaces_removed_and_bad_key_reported():
    assert n.normalise_siret("200 023 414 00101")[0] == "20002341400101"
    assert n.normalise_siret("200 023 414 00101")[1][0][0] == n.CORRECTED
    value, notes = n.normalise_siret("24410051800170")
    assert value == "24410051800170" and "Luhn" in notes[0][1]
    assert "14 chiffres" in n.normalise_siret("1234")[1][0][1]


def test_coordinates():
    assert n.check_coordinates("47,2", "-1,55")[:2] == (47.2, -1.55)
    lat, lon, notes = n.check_coordinates("-1.55", "47.2")
    assert lat is None and "inversées" in notes[0][1]
    assert n.check_coordinates("abc", "1")[2][0][0] == n.WARNING
    assert n.check_coordinates("95", "1")[0] is None
    assert n.check_coordinates("-21.1", "55.5")[:2] == (-21.1, 55.5)  # La Réunion


def test_import_normalises_and_reports_every_problem(tmp_path):
    rows = [
        GOOD,
        'CA Test,"Projet\nsur deux lignes ",200 023 414 00101,47.2,-1.5,EPCI,05/2024,Terminé,'
        '"P  ","Desc",Mobilités,"Flux et trafic, Inconnu",Élu,javascript:alert(1),x,2024-01-01\n',
        ',,123,x,y,Commune,01/2024,En déploiement,,"<script>alert(1)</script>",Mobilités,,'
        "Agent,,,01/01/2025\n",
    ]
    result = import_csv(write_csv(tmp_path, rows))
    assert len(result.records) == 3  # never dropped
    r2 = result.records[1]["fields"]
    assert r2["Nom_du_projet"] == "Projet sur deux lignes"
    assert r2["SIRET"] == "20002341400101"
    assert r2["Statut_du_projet"] == "Terminée"
    assert r2["Audience"] == ["Elu"]
    assert r2["Sous_Theme"] == ["Flux et trafic", "Inconnu"]
    assert r2["Partenaires"] == "P"
    texts = [p.to_text() for p in result.problems]
    assert any("ligne 3" in t and "retours à la ligne" in t for t in texts)
    assert any("« Inconnu »" in t for t in texts)
    assert any("javascript:alert(1)" in t and "jamais comme lien" in t for t in texts)
    assert any("2024-01-01" in t and "JJ/MM/AAAA" in t for t in texts)
    third = [p for p in result.problems if p.record == result.records[2]["id"]]
    assert {p.level for p in third} >= {n.ERROR, n.WARNING}
    assert any("HTML" in p.message for p in third)
    assert any("illisibles" in p.message for p in third)
    assert not result.ok
    assert result.records[2]["id"] == "ligne-5"  # row 2 spans lines 3-4


def test_import_reads_semicolon_cp1252(tmp_path):
    header = HEADER.replace(",", ";")
    row = GOOD.replace(",", ";").replace('"Flux et trafic"', "Flux et trafic")
    row = row.replace("48.85", "48,85").replace("2.35", "2,35")
    result = import_csv(write_csv(tmp_path, [row], header, encoding="cp1252"))
    assert result.records[0]["fields"]["Latitude"] == 48.85
    assert result.records[0]["fields"]["Nom_collectivite"] == "Ville de Test"


def test_import_refuses_a_file_that_is_not_an_export(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(CatalogImportError, match="pas un export"):
        import_csv(p)
    with pytest.raises(CatalogImportError, match="introuvable"):
        import_csv(tmp_path / "absent.csv")


def test_write_import_is_atomic_and_round_trips(tmp_path):
    result = import_csv(write_csv(tmp_path, [GOOD, GOOD]))
    dest = write_import(result, tmp_path / "out" / "national.json")
    records = load_import(dest)
    assert [r["id"] for r in records] == ["ville-de-test-projet-a", "ville-de-test-projet-a-2"]
    assert any("doublon" in p.message for p in result.problems)
    assert [p.name for p in dest.parent.iterdir()] == ["national.json"]


@pytest.mark.realdata
def test_real_national_export_imports_33_records_with_expected_warnings():
    csv_file = REALDATA / "data.csv"
    if not csv_file.exists():
        pytest.skip("../shared/realdata absent")
    result = import_csv(csv_file)
    assert len(result.records) == 33
    msgs = [p.message for p in result.problems]
    assert sum("« Terminé » normalisé en « Terminée »" in m for m in msgs) == 8
    assert sum("écrit sans espaces" in m for m in msgs) == 7
    assert sum("Luhn" in m for m in msgs) == 3
    assert sum("retours à la ligne" in m for m in msgs) == 3  # 2 names, 1 partner list
    assert any("projet_contact" in m for m in msgs)  # restricted columns absent, reported
    assert result.ok  # warnings only: nothing blocks


def test_our_records_are_clean_and_complete():
    records, problems = load_records(REPO)
    assert [r["id"] for r in records] == list(OUR_ENTRIES)
    assert problems == []
    for record in records:
        fields = record["fields"]
        assert fields["Nom_collectivite"] in ("Nantes Métropole", "Métropole Européenne de Lille")
        for name in ("projet_contact", "nom_algorithme", "type_algorithme", "donnees_source"):
            assert name in fields
        assert record["expert"]["launch"] is True


def test_record_errors_are_reported(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text(
        "id: y\nnational:\n  Nom_du_projet: P\n  champ_inconnu: 1\nexpert:\n  notebook: a.ipynb\n",
        encoding="utf-8",
    )
    record, problems = read_record(p)
    texts = " ".join(pr.to_text() for pr in problems)
    assert "différent du nom du fichier" in texts and "champ_inconnu" in texts
    assert check_expert_files(record, tmp_path)[0].message.startswith("fichier « a.ipynb »")


def test_scaffold_record_round_trips(tmp_path):
    d = tmp_path / "hub" / "catalog" / "entries"
    d.mkdir(parents=True)
    (d / "new_entry.yaml").write_text(
        scaffold_record("new_entry", title="Nouveau", root=tmp_path), encoding="utf-8"
    )
    record, problems = read_record(d / "new_entry.yaml")
    assert record["id"] == "new_entry" and record["expert"]["notebook"].endswith(".ipynb")
    assert all(p.level != n.ERROR for p in problems)


def test_a_package_folder_in_sources_stands_for_its_python_files(tmp_path):
    from hub.catalog.expert import expert_material
    from hub.catalog.records import source_files

    package = tmp_path / "models" / "eau"
    (package / "__pycache__").mkdir(parents=True)
    for name in ("__init__.py", "data.py", "model.py", "__pycache__/data.cpython-311.pyc"):
        (package / name).write_text(f"# {name}\n", encoding="utf-8")
    assert source_files("models/eau/", tmp_path) == [
        "models/eau/__init__.py",
        "models/eau/data.py",
        "models/eau/model.py",
    ]
    assert source_files("../", tmp_path) == ["../"]  # never a folder outside the root
    record = {"id": "eau", "expert": {"sources": ["models/eau/", "absent.json"]}}
    shown = expert_material(record, tmp_path, tmp_path / "runs")["sources"]
    assert [s["chemin"] for s in shown][-1] == "absent.json" and shown[-1]["texte"] is None
    assert shown[1] == {"chemin": "models/eau/data.py", "texte": "# data.py\n"}
    assert check_expert_files(record, tmp_path)[0].message.startswith("fichier « absent.json »")
    assert len(check_expert_files(record, tmp_path)) == 1


def test_views_never_carry_a_field_above_the_tier():
    catalog = Catalog.load(REPO)
    record = catalog.get("canteen_attendance")
    public = record_view(record, Tier.PUBLIC)["champs"]
    assert "nom_algorithme" not in public and "Nom_du_projet" in public
    assert set(public) <= set(PUBLIC_FIELDS)
    restricted = visible_fields(record, Tier.RESTREINT)
    assert "nom_algorithme" in restricted


def test_search_ignores_fields_the_viewer_cannot_see():
    catalog = Catalog.load(REPO)
    word = "HistGradientBoostingRegressor"  # only in algorithme_operations (restreint)
    assert catalog.search(Tier.PUBLIC, word) == []
    assert [r["id"] for r in catalog.search(Tier.RESTREINT, word)] == ["canteen_attendance"]


def test_filters_and_facets(tmp_path):
    result = import_csv(write_csv(tmp_path, [GOOD]))
    catalog = Catalog.load(REPO, write_import(result, tmp_path / "n.json"))
    assert len(catalog.records) == 4
    ids = [r["id"] for r in catalog.search(Tier.PUBLIC, "", {"theme": "Mobilités"})]
    assert ids == ["bike_counters", "ville-de-test-projet-a"]
    ids = [r["id"] for r in catalog.search(Tier.PUBLIC, "cantines", {"audience": "Agent"})]
    assert ids == ["canteen_attendance"]
    assert catalog.search(Tier.PUBLIC, "", {"statut": "Terminée"})[0]["id"].startswith("ville")
    assert ("EPCI", 3) in catalog.facets()["type"]


def test_catalog_service_entry_and_configuration(tmp_path):
    s = Settings.from_env({"BIBLIO_STATE_DIR": str(tmp_path), "BIBLIO_CATALOG_PORT": "18123"})
    svc = catalog_service(s)
    assert svc["url"] == "http://127.0.0.1:18123"
    assert Path(svc["command"][0]).is_absolute() and svc["oauth_no_confirm"] is True
    # the reproduce and workspace scopes too: the catalog shows « Essayer sur mes données »
    # and « Mes espaces » to their holders only
    assert set(svc["oauth_client_allowed_scopes"]) == {
        SCOPE_RESTREINT,
        SCOPE_EXPERT,
        "custom:biblio:reproduire",
        "custom:biblio:espaces",
    }
    assert catalog_roles(s)[0]["scopes"] == ["access:services!service=catalog"]
    c = Config()
    c.JupyterHub.services = [{"name": "idle-culler"}]
    c.JupyterHub.load_roles = [{"name": "user", "scopes": ["self"]}]
    configure_catalog(c, s)
    assert [x["name"] for x in c.JupyterHub.services] == ["idle-culler", "catalog"]
    assert c.JupyterHub.load_roles[0]["scopes"] == ["self", "access:services!service=catalog"]
    assert c.JupyterHub.template_paths[0].endswith("hub/templates")


def test_merge_roles_appends_unknown_roles():
    merged = merge_roles([{"name": "a", "scopes": ["x"]}], [{"name": "b", "scopes": ["y"]}])
    assert [r["name"] for r in merged] == ["a", "b"]


def test_bad_catalog_port_is_a_french_error(tmp_path):
    from hub.config.settings import SettingsError

    with pytest.raises(SettingsError, match="BIBLIO_CATALOG_PORT vaut « abc »"):
        Settings.from_env({"BIBLIO_STATE_DIR": str(tmp_path), "BIBLIO_CATALOG_PORT": "abc"})
    with pytest.raises(SettingsError, match="entre 1 et 65535"):
        Settings.from_env({"BIBLIO_CATALOG_PORT": "70000"})


def test_the_last_ci_run_shows_scalar_metrics_under_french_labels(tmp_path):
    from hub.catalog.expert import last_run

    (tmp_path / "metrics.json").write_text(
        json.dumps(
            {
                "model": {
                    "name": "détecteur",
                    "metrics": {
                        "recall": 0.8291,
                        "false_alarm_rate": 0.0454,
                        "counter_days": 8700,
                        "thresholds": {"day_up": 8.0},
                        "by_kind": {"pic": {"recall": 0.8}},
                        "layout": "hourly",
                    },
                },
                "baselines": {"isolation_forest": {"metrics": {"recall": 0.1}}},
                "test_period": {"start": "2021-01-01", "end": "2021-05-30"},
            }
        ),
        encoding="utf-8",
    )
    shown = last_run(tmp_path)["metrics"]
    assert shown["colonnes"] == ["Rappel", "Fausses alertes (jours normaux)", "Jours compteur"]
    assert shown["lignes"] == [
        ("détecteur", ["0,829", "0,045", "8\u202f700"]),
        ("isolation_forest", ["0,1", "—", "—"]),
    ]
