"""The catalog's caches: the same answers as without them, and nothing stale after an import."""

import os
from pathlib import Path

import pytest
from tornado.testing import AsyncHTTPTestCase

from hub.catalog.importer import import_csv, write_import
from hub.catalog.service import CatalogSource, make_app
from hub.catalog.store import FILTERS, Catalog, matches
from hub.catalog.tiers import Tier

REPO = Path(__file__).resolve().parents[2]
PREFIX = "/services/catalog/"
HEADER = (
    "Nom_collectivite,Nom_du_projet,SIRET,Latitude,Longitude,Type_de_collectivite,"
    "Date_de_demarrage,Statut_du_projet,Description_service,Theme,Audience,URL_Service,"
    "URL_Logo,Date_de_derniere_mise_a_jour\n"
)


def row(name):
    return (
        f"Ville de Test,{name},21750001600019,48.8,2.3,Commune,01/2024,Terminé,"
        f"Service {name},Mobilités,Agent,https://x.fr,https://x.fr/l.png,01/01/2025\n"
    )


def write_national(folder: Path, name: str) -> Path:
    (folder / "n.csv").write_text(HEADER + row(name), encoding="utf-8")
    return write_import(import_csv(folder / "n.csv"), folder / "national.json")


@pytest.mark.parametrize("tier", list(Tier))
@pytest.mark.parametrize(
    ("query", "filters"),
    [
        ("", {}),
        ("cantines", {}),
        ("CANTINES  scolaires", {}),
        ("vélo", {"theme": "Mobilités"}),
        ("", {"statut": "En expérimentation", "type": ""}),
        ("zzz-rien", {}),
    ],
)
def test_cached_search_answers_as_the_plain_filter(tmp_path, tier, query, filters):
    catalog = Catalog.load(REPO, write_national(tmp_path, "Projet témoin"))
    plain = [r for r in catalog.records if matches(r, tier, query, filters)]
    assert catalog.search(tier, query, filters) == plain
    assert catalog.search(tier, query, filters) == plain  # from the cache
    found = catalog.search(tier, query, filters)
    found.clear()  # a caller changing its list does not change the cache
    assert catalog.search(tier, query, filters) == plain
    facets = catalog.facets(tier)
    assert set(facets) == set(FILTERS) and catalog.facets(tier) == facets


class CachedPagesTest(AsyncHTTPTestCase):
    @pytest.fixture(autouse=True)
    def _inject(self, monkeypatch, tmp_path):
        monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "unit-test-token")
        monkeypatch.setenv("JUPYTERHUB_API_URL", "http://127.0.0.1:9/hub/api")
        monkeypatch.setenv("JUPYTERHUB_CLIENT_ID", "service-catalog")
        monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", PREFIX)
        monkeypatch.setenv("JUPYTERHUB_OAUTH_CALLBACK_URL", PREFIX + "oauth_callback")
        self.folder = tmp_path
        self.import_file = write_national(tmp_path, "Projet Alpha")
        self.source = CatalogSource(Catalog.load(REPO, self.import_file), REPO, self.import_file)
        super().setUp()

    def setUp(self):
        pass

    def get_app(self):
        return make_app(self.source, prefix=PREFIX, repo_root=REPO, runs_dir=Path(os.devnull))

    def page(self, path):
        return self.fetch(PREFIX + path, follow_redirects=False)

    def test_a_new_import_is_shown_at_once(self):
        for path in ("", "?q=projet", "carte"):
            assert "Projet Alpha" in self.page(path).body.decode()
        stamp = self.import_file.stat().st_mtime_ns
        write_national(self.folder, "Projet Beta")
        os.utime(self.import_file, ns=(stamp + 10**9, stamp + 10**9))
        self.source._checked -= 2  # the file is checked at most once a second
        for path in ("", "?q=projet", "carte"):
            body = self.page(path).body.decode()
            assert "Projet Beta" in body and "Projet Alpha" not in body, path
        assert self.source.generation == 1

    def test_error_pages_are_not_kept(self):
        for _ in range(2):
            r = self.page("projet/absent")
            assert r.code == 404 and "introuvable" in r.body.decode()


def test_cookie_secret_follows_the_service_token():
    from hub.catalog.service import cookie_secret

    first = cookie_secret("jeton-du-service")
    assert first == cookie_secret("jeton-du-service") and len(first) == 32
    assert cookie_secret("un-autre-jeton") != first
    assert b"jeton" not in first and cookie_secret("") is None


def test_every_service_signs_its_cookies_with_its_own_token(monkeypatch):
    """The catalog, reproduce and workspaces services derive their cookie secret from the
    token the hub gives them again at each restart (``JUPYTERHUB_API_TOKEN``)."""
    from hub.service_auth import cookie_secret

    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "jeton-du-service")
    assert cookie_secret() == cookie_secret("jeton-du-service")
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN")
    assert cookie_secret() is None
