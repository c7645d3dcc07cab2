"""The hub's own pages as a user meets them: French, the login form keeps where it was going,
account approvals cannot be forged from another site, user names cannot impersonate."""

import html
import re
import time

import requests

from hub.spawners import launch
from tests.integration.conftest import real_entries

ENTRY = real_entries()[0] or "canteen_attendance"


def _text(r) -> str:
    """The page as the browser reads it: the hub sends UTF-8 without a charset header."""
    return html.unescape(r.content.decode("utf-8"))


def _form_action(page: str) -> str:
    return html.unescape(re.search(r'<form action="([^"]+)" method="post"', page).group(1))


def _follow_spawn(session, r, timeout=60):
    deadline = time.monotonic() + timeout
    while "/hub/spawn-pending/" in r.url and time.monotonic() < deadline:
        time.sleep(0.3)
        r = session.get(r.url, timeout=30)
    return r


def test_login_form_keeps_the_launch_link_it_was_sent_from(live_hub):
    s = requests.Session()
    r = s.get(live_hub.url + launch.launch_url("/", "expert", ENTRY), timeout=30)
    assert "/hub/login" in r.url, "a logged-out user is sent to the login page"
    action = _form_action(_text(r))
    assert action.split("next=", 1)[1].startswith("%2Fhub%2Fspawn%2F"), "next encoded once"
    r = s.post(
        live_hub.url + action,
        data={
            "username": "expert",
            "password": live_hub.printed_passwords()["expert"],
            "_xsrf": s.cookies.get("_xsrf"),
        },
        timeout=90,
    )
    try:
        r = _follow_spawn(s, r)
        assert r.url.endswith(launch.notebook_url("/", "expert", ENTRY)), r.url
        assert "Disallowing redirect outside JupyterHub" not in live_hub.log_text()
    finally:
        live_hub.stop_server("expert", ENTRY)


def test_mes_espaces_is_offered_to_those_who_may_own_a_workspace_only(live_hub):
    """Creating a joint workspace is an expert's right: the link is not shown to others."""
    for name, shown in (("expert", True), ("collectivite", False)):
        s = live_hub.login(name)
        # the catalog is public: signing in there goes through its own « Se connecter »
        for path in ("/hub/home", "/services/catalog/connexion?next=/services/catalog/"):
            r = s.get(live_hub.url + path, timeout=30)
            assert r.status_code == 200 and name in r.text, (name, path, r.status_code)
            assert ("Mes espaces" in r.text) is shown, (name, path)


def test_unknown_demonstrator_in_the_browser_is_a_french_404(live_hub):
    s = live_hub.login("expert")
    r = s.get(live_hub.url + "/hub/spawn/expert/pas_une_entree", timeout=30)
    assert r.status_code == 404
    assert "Page introuvable" in _text(r) and "Démonstrateur inconnu : « pas_une_entree »" in _text(
        r
    )
    assert "Not Found" not in _text(r)
    assert "pas_une_entree" not in live_hub.api("GET", "users/expert").json()["servers"]


def test_a_collectivite_is_told_in_french_why_it_cannot_launch(live_hub):
    s = live_hub.login("collectivite")
    r = s.get(live_hub.url + launch.launch_url("/", "collectivite", ENTRY), timeout=30)
    assert r.status_code == 403
    assert "Accès refusé" in _text(r) and "réservé aux experts" in _text(r)
    assert "not authorized with current scopes" not in _text(r)


def _signup(hub, name, password="un-mot-de-passe-solide-42"):
    s = requests.Session()
    s.get(hub.url + "/hub/signup", timeout=30)
    r = s.post(
        hub.url + "/hub/signup",
        data={
            "username": name,
            "signup_password": password,
            "signup_password_confirmation": password,
            "_xsrf": s.cookies.get("_xsrf"),
        },
        timeout=30,
    )
    return r


def _try_login(hub, name, password):
    s = requests.Session()
    s.get(hub.url + "/hub/login", timeout=30)
    return s.post(
        hub.url + "/hub/login",
        data={"username": name, "password": password, "_xsrf": s.cookies.get("_xsrf")},
        timeout=30,
        allow_redirects=False,
    )


def test_sign_up_approval_by_post_only_and_french_messages(live_hub):
    r = _signup(live_hub, "gaston")
    assert "transmise à l'administrateur" in _text(r)
    r = _try_login(live_hub, "gaston", "un-mot-de-passe-solide-42")
    assert "n'a pas encore été validé par un administrateur" in _text(r)
    admin = live_hub.login("admin")
    # a link (GET), as a page visited by the admin could trigger, changes nothing
    r = admin.get(live_hub.url + "/hub/authorize/gaston", timeout=30, allow_redirects=False)
    assert r.status_code == 405 and "formulaire protégé" in _text(r)
    r = admin.post(live_hub.url + "/hub/authorize/gaston", timeout=30, allow_redirects=False)
    assert r.status_code == 403, "a POST without the XSRF token is refused"
    assert _try_login(live_hub, "gaston", "un-mot-de-passe-solide-42").status_code != 302
    page = admin.get(live_hub.url + "/hub/authorize", timeout=30)
    assert "Autoriser des comptes" in _text(page) and 'name="_xsrf"' in _text(page)
    r = admin.post(
        live_hub.url + "/hub/authorize/gaston",
        data={"_xsrf": admin.cookies.get("_xsrf")},
        timeout=30,
        allow_redirects=False,
    )
    assert r.status_code == 302
    assert _try_login(live_hub, "gaston", "un-mot-de-passe-solide-42").status_code == 302


def test_wrong_password_then_lockout_said_in_french(live_hub):
    assert "transmise" in _text(_signup(live_hub, "hector"))
    admin = live_hub.login("admin")
    admin.post(
        live_hub.url + "/hub/authorize/hector",
        data={"_xsrf": admin.cookies.get("_xsrf")},
        timeout=30,
    )
    r = _try_login(live_hub, "hector", "mauvais")
    assert "Nom d'utilisateur ou mot de passe incorrect." in _text(r)
    for _ in range(4):
        r = _try_login(live_hub, "hector", "mauvais")
    assert "bloquée pendant 10 minutes" in _text(r), _text(r)[-600:]
    r = _try_login(live_hub, "hector", "un-mot-de-passe-solide-42")
    assert r.status_code != 302 and "bloquée" in _text(r), "even the right password waits"


def test_look_alike_names_cannot_sign_up(live_hub):
    for name in ("аdmin", "ADM1N", "ad.min", "ａｄｍｉｎ", "exp_ert"):  # Cyrillic а, full width
        r = _signup(live_hub, name)
        assert "transmise" not in _text(r), name
        assert "Inscription impossible" in _text(r) or "déjà pris" in _text(r), (
            name,
            _text(r)[-500:],
        )
    admin = live_hub.login("admin")
    page = _text(admin.get(live_hub.url + "/hub/authorize", timeout=30))
    listed = set(re.findall(r'<tr id="([^"]+)"', page))
    assert not {"аdmin", "adm1n", "ad.min", "exp_ert"} & listed
    assert _text(_signup(live_hub, "agent.lyon")).count("transmise") == 1, "plain names still work"


def test_every_cookie_of_a_login_is_samesite_lax(live_hub):
    s = requests.Session()
    first = s.get(live_hub.url + "/hub/login", timeout=30)
    r = s.post(
        live_hub.url + "/hub/login?next=/services/catalog/connexion",
        data={
            "username": "collectivite",
            "password": live_hub.printed_passwords()["collectivite"],
            "_xsrf": s.cookies.get("_xsrf"),
        },
        timeout=30,
    )
    assert r.status_code == 200 and "/services/catalog" in r.url
    cookies = [
        (resp.url, header)
        for resp in [first, *r.history, r]
        for header in resp.raw.headers.getlist("Set-Cookie")
    ]
    names = {header.split("=", 1)[0] for _, header in cookies}
    assert {"jupyterhub-hub-login", "jupyterhub-session-id"} <= names, names
    assert any("/services/catalog/" in url for url, _ in cookies), "the catalog's own cookie"
    for url, header in cookies:
        if header.split(";", 1)[0].endswith('=""'):
            continue  # a cookie being cleared
        assert "samesite=lax" in header.lower(), (url, header)
