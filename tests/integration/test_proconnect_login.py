"""ProConnect login against a real OpenID Connect provider (npm oidc-provider on 127.0.0.1).

One provider and one hub (``BIBLIO_AUTH=proconnect``) for the module. Nothing of the OIDC
flow is mocked: the hub discovers the provider, redirects, exchanges the code, verifies the
ID token and the signed user info, and logs out through the end-session endpoint.
"""

import json
import re
import time

import pytest
import requests

from tests.support import oidc
from tests.support.oidc import AGENT_AUTRE, AGENT_COLLECTIVITE, AGENT_FAIBLE


@pytest.fixture(scope="module")
def pc(tmp_path_factory):
    yield from oidc.started(*oidc.proconnect_hub(tmp_path_factory.mktemp("proconnect")))


def _user(hub, name):
    r = hub.api("GET", f"users/{name}")
    assert r.status_code == 200, r.text
    return r.json()


def _header(page: str) -> str:
    found = re.search(r'<div class="compte" id="compte">(.*?)</div>', page, re.S)
    assert found, page[:500]
    return re.sub(r"\s+", " ", found.group(1))


def _error(page: str) -> str:
    found = re.search(r'<p id="message-erreur">(.*?)</p>', page, re.S)
    assert found, page[:1500]
    return found.group(1).replace("&#39;", "'")


def test_authorize_request_carries_what_proconnect_requires(pc):
    hub, provider = pc
    url = oidc.begin(requests.Session(), hub)
    assert url.startswith(provider.issuer + "/auth?")  # read from the discovery document

    def q(name):
        return oidc.parse_qs_value(url, name)

    assert (q("response_type"), q("client_id")) == ("code", oidc.CLIENT_ID)
    assert q("redirect_uri") == hub.url + "/hub/oauth_callback"
    assert q("scope").split() == ["openid", "given_name", "usual_name", "email", "uid", "siret",
                                  "idp_id", "organization_label"]  # fmt: skip
    assert len(q("state")) >= 32 and len(q("nonce")) >= 32
    assert q("code_challenge_method") == "S256" and len(q("code_challenge")) == 43
    acr = json.loads(q("claims"))["id_token"]["acr"]
    assert acr == {"essential": True, "values": ["eidas1", "eidas1-mfa", "eidas2", "eidas3"]}
    other = oidc.begin(requests.Session(), hub)
    for name in ("state", "nonce", "code_challenge"):
        assert oidc.parse_qs_value(other, name) != q(name)


def test_collectivite_agent_gets_the_restricted_tier(pc):
    hub, _ = pc
    session, page = oidc.log_in(hub, AGENT_COLLECTIVITE)
    assert page.status_code == 200 and page.url.startswith(hub.url + "/services/catalog/")
    header = _header(page.text)
    assert "Jeanne Martin" in header and "Commune d&#39;Exemple-sur-Loire" in header
    assert "restreint" in header
    name = re.search(r"identifiant (pc-[0-9a-f]{12})", header).group(1)
    model = _user(hub, name)
    assert model["groups"] == ["collectivites"] and not model["admin"]
    # the catalog's API answers at the restricted tier for this session
    api = session.get(hub.url + "/services/catalog/api/projets", timeout=30).json()
    assert api["niveau"] == "restreint"
    # the card shows the restricted fields a visitor does not get
    card = "/services/catalog/api/projets/canteen_attendance"
    agent = session.get(hub.url + card, timeout=30).json()["champs"]
    visitor = requests.get(hub.url + card, timeout=30).json()["champs"]
    assert set(visitor) < set(agent)
    # the same agent logs in again under the same name (stable claim), still one account
    again, _ = oidc.log_in(hub, AGENT_COLLECTIVITE)
    names = [u["name"] for u in hub.api("GET", "users").json() if u["name"].startswith("pc-")]
    assert names.count(name) == 1


def test_agent_of_another_organisation_gets_the_public_tier(pc):
    hub, _ = pc
    session, page = oidc.log_in(hub, AGENT_AUTRE)
    header = _header(page.text)
    assert "Paul Durand" in header and "public" in header
    name = re.search(r"identifiant (pc-[0-9a-f]{12})", header).group(1)
    assert _user(hub, name)["groups"] == []
    api = session.get(hub.url + "/services/catalog/api/projets", timeout=30).json()
    assert api["niveau"] == "public"
    # experts are still granted by an admin, and stay experts at their next login
    hub.api("POST", "groups/experts/users", json={"users": [name]}).raise_for_status()
    session, page = oidc.log_in(hub, AGENT_AUTRE)
    assert _user(hub, name)["groups"] == ["experts"] and "expert" in _header(page.text)


def _refused(page, status, words):
    page.encoding = "utf-8"  # the hub's error page says so in its <meta>, not in its header
    assert page.status_code == status, (page.status_code, page.text[:800])
    message = _error(page.text)
    assert words in message, message
    return message


def test_user_info_as_plain_json_is_read_too(pc):
    hub, provider = pc
    provider.set_mode(userinfoJson=True)
    _, page = oidc.log_in(hub, AGENT_COLLECTIVITE)
    assert page.status_code == 200 and "Jeanne Martin" in _header(page.text)
    assert hub.log_text().count("informations de l'agent reçues en JSON") == 1


def test_state_mismatch_is_refused(pc):
    hub, _ = pc
    session = requests.Session()
    callback = oidc.at_provider(session, oidc.begin(session, hub), AGENT_COLLECTIVITE, hub)
    forged = oidc.with_params(callback, state="eyJzdGF0ZV9pZCI6ICJhdXRyZSJ9")
    message = _refused(oidc.finish(session, forged), 400, "state ne correspond pas")
    assert "Recommencez" in message
    assert session.get(hub.url + "/hub/api/user", timeout=30).status_code == 403


def test_nonce_mismatch_is_refused(pc):
    hub, _ = pc
    session = requests.Session()
    authorize = oidc.with_params(oidc.begin(session, hub), nonce="un-autre-nonce-" + "x" * 32)
    callback = oidc.at_provider(session, authorize, AGENT_COLLECTIVITE, hub)
    _refused(oidc.finish(session, callback), 403, "nonce du jeton d'identité ne correspond pas")
    assert session.get(hub.url + "/hub/api/user", timeout=30).status_code == 403


def test_expired_code_is_refused(pc):
    hub, provider = pc
    session = requests.Session()
    callback = oidc.at_provider(session, oidc.begin(session, hub), AGENT_COLLECTIVITE, hub)
    time.sleep(provider.code_ttl + 1.5)
    _refused(oidc.finish(session, callback), 403, "code d'autorisation de ProConnect a expiré")


def test_id_token_for_another_audience_is_refused(pc):
    hub, provider = pc
    provider.set_mode(idTokenAudience="un-autre-service")
    _, page = oidc.log_in(hub, AGENT_COLLECTIVITE)
    _refused(page, 403, "n'est pas destiné à ce service (audience différente)")


def test_acr_below_the_minimum_is_refused(pc):
    hub, _ = pc
    session = requests.Session()
    authorize = oidc.begin(session, hub)
    assert "eidas1" in oidc.parse_qs_value(authorize, "claims")
    # the acr demand is made non-essential on the way: the hub must check the level on return
    weaker = oidc.with_params(authorize, claims='{"id_token":{"acr":null}}')
    callback = oidc.at_provider(session, weaker, AGENT_FAIBLE, hub)
    message = _refused(oidc.finish(session, callback), 403, "« eidas0 » insuffisant")
    assert "« eidas1 » au moins" in message


def test_logout_ends_the_hub_and_the_provider_sessions(pc):
    hub, _ = pc
    session, _ = oidc.log_in(hub, AGENT_COLLECTIVITE)
    assert session.get(hub.url + "/hub/api/user", timeout=30).status_code == 200
    # single sign-on: the provider's session is open, a new login goes straight through
    assert not oidc.provider_asks_login(session, oidc.begin(session, hub), hub)
    last = oidc.log_out(session, hub)
    assert last.status_code == 200 and last.url.startswith(hub.url + "/services/catalog/")
    assert "Visiteur" in _header(last.text)
    assert session.get(hub.url + "/hub/api/user", timeout=30).status_code == 403
    # the provider's session is gone too: it asks for the login again
    assert oidc.provider_asks_login(session, oidc.begin(session, hub), hub)


def test_logout_return_with_a_forged_state_is_refused(pc):
    hub, _ = pc
    session = requests.Session()
    r = session.get(hub.url + "/hub/proconnect/deconnexion?state=forge", timeout=30)
    _refused(r, 400, "state différent")
