"""The catalog's access matrix on a real hub, inert imported HTML, the national import.

Users: anonymous, collectivite, expert, admin (demo accounts of ``live_hub``) and a second
expert, each × (public list, public card, restricted fields in page and API, expert page,
launch, another user's server). Every cell is asserted, and ``CELLS`` counts them.
"""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from hub.config.settings import Settings

REPO = Path(__file__).resolve().parents[2]
REALDATA = REPO / ".." / "shared" / "realdata" / "bibliotheque"
CAT = "/services/catalog/"
ENTRY = "canteen_attendance"
RESTRICTED_VALUE = "Prévision quantile de la fréquentation par cantine"  # nom_algorithme
PUBLIC_VALUE = "Prévision de la fréquentation des cantines scolaires"  # Nom_du_projet
USERS = ("anonyme", "collectivite", "expert", "admin", "expert2")

# Expected by the design: which tier each user has, and who may start servers.
EXPECTED = {
    #             restricted  expert  launch  other's server
    "anonyme": (False, False, False, False),
    "collectivite": (True, False, False, False),
    "expert": (True, True, True, False),
    "admin": (True, True, True, True),  # JupyterHub admins have access:servers
    "expert2": (True, True, True, False),
}
CELLS: list[tuple[str, str]] = []


def cell(user, column):
    CELLS.append((user, column))


def test_fresh_hub_lists_the_national_snapshot(live_hub):
    # First start, no import made by anyone: the shipped national snapshot is there.
    data = get(live_hub, CAT + "api/projets").json()
    assert data["total"] == 36  # 33 national records + our 3 entries
    origins = [p.get("origine") for p in data["projets"]]
    assert origins.count("national") == 33
    page = get(live_hub, CAT + "?type=M%C3%A9tropole").text  # out of the schema's enums
    assert "Lyon" in page and "Rennes" in page
    assert get(live_hub, CAT).text.count('fill="#1f5fa8"') >= 25  # national points on the map


@pytest.fixture(scope="module")
def tokens(live_hub):
    toks = {"anonyme": None}
    toks["collectivite"] = live_hub.create_user("collectivite", ("collectivites",))
    toks["expert"] = live_hub.create_user("expert", ("experts",))
    toks["admin"] = live_hub.create_user("admin", ("admins",))
    toks["expert2"] = live_hub.create_user("expert2", ("experts",))
    yield toks
    for user in ("expert", "admin", "expert2"):
        live_hub.api("DELETE", f"users/{user}/servers/{ENTRY}")


def get(hub, path, token=None, **kw):
    headers = {"Authorization": f"token {token}"} if token else {}
    return requests.get(hub.url + path, headers=headers, timeout=30, allow_redirects=False, **kw)


@pytest.mark.parametrize("user", USERS)
def test_access_matrix(live_hub, tokens, user):
    token = tokens[user]
    restricted, expert, launch, others = EXPECTED[user]

    # public list (page + API)
    r = get(live_hub, CAT + "?q=cantines", token)
    assert r.status_code == 200 and PUBLIC_VALUE in r.text
    api = get(live_hub, CAT + "api/projets", token)
    assert api.status_code == 200
    assert {"canteen_attendance", "air_quality", "bike_counters"} <= {
        p["id"] for p in api.json()["projets"]
    }
    cell(user, "liste publique")

    # public card
    r = get(live_hub, CAT + f"projet/{ENTRY}", token)
    assert r.status_code == 200 and "Nantes Métropole" in r.text
    cell(user, "fiche publique")

    # restricted fields: page and API (a field you may not see is never sent)
    assert (RESTRICTED_VALUE in r.text) is restricted
    assert ('id="champs-restreints"' in r.text) is restricted
    card = get(live_hub, CAT + f"api/projets/{ENTRY}", token).json()
    assert ("nom_algorithme" in card["champs"]) is restricted
    assert ("projet_contact" in card["champs"]) is restricted
    listed = next(p for p in api.json()["projets"] if p["id"] == ENTRY)
    assert ("nom_algorithme" in listed["champs"]) is restricted
    assert api.json()["niveau"] == ("expert" if expert else "restreint" if restricted else "public")
    cell(user, "champs restreints (page et API)")

    # expert page (page + API)
    page = get(live_hub, CAT + f"projet/{ENTRY}/expert", token)
    japi = get(live_hub, CAT + f"api/projets/{ENTRY}/expert", token)
    if expert:
        assert page.status_code == 200 and 'id="fiche-modele"' in page.text
        assert 'id="notebook"' in page.text and 'class="cell' in page.text  # nbconvert
        assert japi.status_code == 200 and japi.json()["expert"]["notebook"]
    elif token is None:
        assert page.status_code == 302 and "/hub/api/oauth2/authorize" in page.headers["Location"]
        assert japi.status_code == 403
    else:
        assert page.status_code == 403 and "Accès refusé" in page.text
        assert japi.status_code == 403
    assert ('id="lancer"' in r.text) is launch
    assert (card["lancement"] is not None) is launch
    cell(user, "page expert")

    # launch: start one's own demonstrator through the REST API with one's own token
    if token is None:
        r = requests.post(f"{live_hub.url}/hub/api/users/expert/servers/{ENTRY}", timeout=30)
        assert r.status_code == 403
    else:
        r = live_hub.api("POST", f"users/{user}/servers/{ENTRY}", token=token, json={})
        if launch:
            assert r.status_code in (201, 202), r.text
            live_hub.wait_ready(user, ENTRY)
            assert card["lancement"].startswith(f"/hub/spawn/{user}/{ENTRY}")
        else:
            assert r.status_code == 403, r.text
    cell(user, "lancement")


@pytest.mark.parametrize("user", USERS)
def test_another_users_server(live_hub, tokens, user):
    """Runs after every launch cell (file order): the experts' servers are up."""
    others = EXPECTED[user][3]
    token = tokens[user]
    target = "expert2" if user == "expert" else "expert"
    live_hub.wait_ready(target, ENTRY)
    r = get(live_hub, f"/user/{target}/{ENTRY}/api/status", token)
    if others:
        assert r.status_code == 200 and "started" in r.json()
    elif token is None:
        assert r.status_code == 403  # the server's API refuses anonymous requests
        lab = get(live_hub, f"/user/{target}/{ENTRY}/lab")
        assert lab.status_code == 302 and "/hub/" in lab.headers["Location"]  # to log in
    else:
        assert r.status_code in (403, 404), r.status_code
    cell(user, "serveur d'un autre utilisateur")


def _started(hub, user):
    state = hub.api("GET", f"users/{user}").json().get("servers", {}).get(ENTRY)
    return bool(state and state.get("ready"))


def test_matrix_is_complete():
    """Runs after the matrix (file order): 5 users × 6 columns, all asserted."""
    assert len(CELLS) == 30, CELLS
    print(f"\nmatrice d'accès : {len(CELLS)} cellules vérifiées")


def test_oauth_login_gives_the_tier_from_the_token_scopes(live_hub, tokens):
    """A real browser-like login: hub login form, then the catalog's OAuth (no confirm)."""
    password = live_hub.printed_passwords()["collectivite"]
    s = requests.Session()
    s.get(live_hub.url + "/hub/login", timeout=30)
    r = s.post(
        live_hub.url + "/hub/login?next=" + CAT + "connexion",
        data={"username": "collectivite", "password": password, "_xsrf": s.cookies["_xsrf"]},
        timeout=30,
    )
    assert r.status_code == 200 and r.url.rstrip("/").endswith("/services/catalog")
    page = s.get(live_hub.url + CAT + f"projet/{ENTRY}", timeout=30)
    assert "restreint (collectivités)" in page.text and RESTRICTED_VALUE in page.text
    assert 'id="lancer"' not in page.text
    assert s.get(live_hub.url + CAT + f"projet/{ENTRY}/expert", timeout=30).status_code == 403


def test_unknown_catalog_addresses_get_the_french_404(live_hub):
    for path in ("n_importe_quoi", "projet/inconnu", "projet/a/b/c"):
        r = requests.get(live_hub.url + CAT + path, timeout=30)
        text = r.content.decode("utf-8")
        assert r.status_code == 404 and "introuvable" in text, path
        assert "404: Not Found" not in text


def test_landing_page_is_the_catalog(live_hub):
    r = requests.get(live_hub.url + "/", timeout=30)  # follows / -> /hub/ -> catalog
    assert r.status_code == 200 and r.url.endswith(CAT)
    assert "Catalogue des projets" in r.text
    login = requests.get(live_hub.url + "/hub/login", timeout=30).text
    assert "Se connecter" in login and f'href="{CAT}"' in login
    signup = requests.get(live_hub.url + "/hub/signup", timeout=30)
    assert signup.status_code in (200, 404)


def _import(live_hub, csv_path):
    dest = Settings.from_env({"BIBLIO_STATE_DIR": str(live_hub.state_dir)}).catalog_import
    proc = subprocess.run(
        [sys.executable, "-m", "hub.runner.cli", "catalog", "import", str(csv_path),
         "--dest", str(dest)],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )  # fmt: skip
    time.sleep(1.2)  # the service checks the import file once a second
    return proc


def test_imported_html_and_script_are_inert(live_hub, tmp_path):
    csv_path = tmp_path / "piege.csv"
    csv_path.write_text(
        "Nom_collectivite,Nom_du_projet,SIRET,Latitude,Longitude,Type_de_collectivite,"
        "Date_de_demarrage,Statut_du_projet,Description_service,Theme,Audience,URL_Service,"
        "URL_Logo,Date_de_derniere_mise_a_jour\n"
        'Ville <b>X</b>,"<script>alert(1)</script>Projet piégé",21750001600019,48.8,2.3,'
        'Commune,01/2024,Terminé,"<img src=x onerror=alert(2)>",Mobilités,Agent,'
        "javascript:alert(3),https://x.fr/l.png,01/01/2025\n",
        encoding="utf-8",
    )
    proc = _import(live_hub, csv_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "balisage HTML" in proc.stdout and "jamais comme lien" in proc.stdout
    found = get(live_hub, CAT + "api/projets?q=pi%C3%A9g%C3%A9").json()["projets"]
    assert len(found) == 1
    page = get(live_hub, CAT + f"projet/{found[0]['id']}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;Projet piégé" in page
    assert "<script" not in page.lower() and "<img src=x" not in page
    assert 'href="javascript' not in page and "<b>X</b>" not in page
    listing = get(live_hub, CAT + "?q=pi%C3%A9g%C3%A9").text
    assert "<script" not in listing.lower() and "Projet piégé" in listing


@pytest.mark.realdata
def test_national_csv_import_33_records(live_hub):
    csv_file = REALDATA / "data.csv"
    if not csv_file.exists():
        pytest.skip("../shared/realdata absent")
    proc = _import(live_hub, csv_file)
    assert proc.returncode == 0, proc.stderr
    assert "33 fiches importées" in proc.stdout
    assert len(re.findall(r"« Terminé » normalisé en « Terminée »", proc.stdout)) == 8
    assert len(re.findall(r"clé de contrôle \(Luhn\) est fausse", proc.stdout)) == 3
    assert len(re.findall(r"écrit sans espaces", proc.stdout)) == 7
    assert "« Métropole » ne fait pas partie des valeurs" in proc.stdout
    data = get(live_hub, CAT + "api/projets").json()
    assert data["total"] == 36  # 33 national records + our 3 entries
    one = get(live_hub, CAT + "api/projets?q=sicoval+fuites").json()["projets"]
    assert (
        one[0]["champs"]["Nom_du_projet"] == "Expérimentation IA pour la détection des fuites d'eau"
    )
    assert json.dumps(one).count("\\n") == 0 or "Description_service" in one[0]["champs"]
