"""Unit tests of the catalog service's anonymous side (tornado in-process, no hub needed)."""

import json
import os
from pathlib import Path

import pytest
from tornado.testing import AsyncHTTPTestCase

from hub.catalog import mapsvg
from hub.catalog.importer import import_csv, write_import
from hub.catalog.service import make_app
from hub.catalog.store import Catalog

REPO = Path(__file__).resolve().parents[2]
PREFIX = "/services/catalog/"
HOSTILE = (
    "Nom_collectivite,Nom_du_projet,SIRET,Latitude,Longitude,Type_de_collectivite,"
    "Date_de_demarrage,Statut_du_projet,Description_service,Theme,Audience,URL_Service,"
    "URL_Logo,Date_de_derniere_mise_a_jour\n"
    'Ville <b>X</b>,"<script>alert(""piege"")</script>Projet piégé",21750001600019,48.8,2.3,'
    'Commune,01/2024,Terminé,"<img src=x onerror=alert(1)>",Mobilités,Agent,'
    "javascript:alert(1),https://x.fr/l.png,01/01/2025\n"
)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cat")
    (tmp / "h.csv").write_text(HOSTILE, encoding="utf-8")
    dest = write_import(import_csv(tmp / "h.csv"), tmp / "national.json")
    return Catalog.load(REPO, dest)


def test_map_projection_places_nantes_west_of_lille_and_south():
    nantes, lille = mapsvg.project(47.2184, -1.5536), mapsvg.project(50.6292, 3.0573)
    assert nantes[0] < lille[0] and nantes[1] > lille[1]
    assert mapsvg.project(-21.1, 55.5) is None
    model = mapsvg.map_model([{"id": "r", "lat": -21.1, "lon": 55.5, "nom": "R"}])
    assert model["elsewhere"][0]["id"] == "r" and model["points"] == []


class ServiceTest(AsyncHTTPTestCase):
    catalog: Catalog

    @pytest.fixture(autouse=True)
    def _inject(self, catalog, monkeypatch, tmp_path):
        monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "unit-test-token")
        monkeypatch.setenv("JUPYTERHUB_API_URL", "http://127.0.0.1:9/hub/api")
        monkeypatch.setenv("JUPYTERHUB_CLIENT_ID", "service-catalog")
        monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", PREFIX)
        monkeypatch.setenv("JUPYTERHUB_OAUTH_CALLBACK_URL", PREFIX + "oauth_callback")
        monkeypatch.setenv("JUPYTERHUB_HOST", "")
        type(self).catalog = catalog
        self.runs = tmp_path

    def setUp(self):
        pass

    def _start(self):
        super().setUp()

    def get_app(self):
        return make_app(self.catalog, prefix=PREFIX, repo_root=REPO, runs_dir=Path(os.devnull))

    def get(self, path, **kw):
        return self.fetch(PREFIX + path, follow_redirects=False, **kw)

    def test_anonymous_views(self):
        self._start()
        page = self.get("?q=cantines").body.decode()
        assert "Prévision de la fréquentation des cantines scolaires" in page
        assert "Anticipation des pics" not in page
        assert 'lang="fr"' in page and "Se connecter" in page

        api = json.loads(self.get("api/projets?theme=Mobilit%C3%A9s").body)
        assert api["niveau"] == "public"
        assert {p["id"] for p in api["projets"]} >= {"bike_counters"}
        for p in api["projets"]:
            assert p["champs"]["Theme"] == "Mobilités"
            assert "nom_algorithme" not in p["champs"] and "projet_contact" not in p["champs"]

        card = self.get("projet/canteen_attendance").body.decode()
        assert "Nantes Métropole" in card
        assert "Prévision quantile" not in card  # nom_algorithme is restreint
        assert 'id="lancer"' not in card and "réservé aux experts" in card
        card_api = json.loads(self.get("api/projets/canteen_attendance").body)
        assert card_api["lancement"] is None and "nom_algorithme" not in card_api["champs"]

        assert self.get("projet/absent").code == 404
        assert "introuvable" in self.get("projet/absent").body.decode()
        expert = self.get("projet/canteen_attendance/expert")
        assert expert.code == 302 and "oauth2/authorize" in expert.headers["Location"]
        api_expert = self.get("api/projets/canteen_attendance/expert")
        assert api_expert.code == 403 and "refusé" in json.loads(api_expert.body)["erreur"]
        assert "<svg" in self.get("carte").body.decode()
        css = self.get("static/catalogue.css")
        assert css.code == 200 and b"font-family" in css.body

    def test_imported_html_and_script_are_inert(self):
        self._start()
        rid = next(r["id"] for r in self.catalog.records if r.get("origin") == "national")
        page = self.get(f"projet/{rid}").body.decode()
        assert "&lt;script&gt;alert(&#34;piege&#34;)&lt;/script&gt;Projet piégé" in page
        assert "<script" not in page.lower()
        assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
        assert 'href="javascript' not in page and "javascript:alert(1)" in page
        assert "<b>X</b>" not in page and "Ville &lt;b&gt;X&lt;/b&gt;" in page
        listing = self.get("?q=pi%C3%A9g%C3%A9").body.decode()
        assert "<script" not in listing.lower() and "Projet piégé" in listing
        assert "script-src 'self'" in self.get("").headers["Content-Security-Policy"]
