"""ProConnect mode with a strict policy: other organisations refused, the admin named by
configuration (``BIBLIO_ADMIN`` = the ``pc-`` name of an agent). One provider, one hub."""

import re

import pytest

from hub.config.proconnect import proconnect_username
from tests.support import oidc
from tests.support.oidc import AGENT_AUTRE, AGENT_COLLECTIVITE


@pytest.fixture(scope="module")
def strict(tmp_path_factory):
    hub, provider = oidc.proconnect_hub(tmp_path_factory.mktemp("proconnect-strict"))
    admin = proconnect_username(provider.issuer, AGENT_COLLECTIVITE)  # the test provider's sub
    hub.extra_env.update({"BIBLIO_PROCONNECT_AUTRES": "refus", "BIBLIO_ADMIN": admin})
    for started_hub, _ in oidc.started(hub, provider):
        yield started_hub, admin


def test_agent_of_another_organisation_is_refused_in_french(strict):
    hub, _ = strict
    session, page = oidc.log_in(hub, AGENT_AUTRE)
    page.encoding = "utf-8"
    assert page.status_code == 403
    message = re.search(r'<p id="message-erreur">(.*?)</p>', page.text, re.S).group(1)
    assert "réservé aux agents des collectivités" in message and oidc.OTHER_SIRET in message
    assert session.get(hub.url + "/hub/api/user", timeout=30).status_code == 403
    names = [u["name"] for u in hub.api("GET", "users").json()]
    assert not [n for n in names if n.startswith("pc-") and n != strict[1]]  # no account made


def test_admin_named_by_configuration(strict):
    hub, admin = strict
    session, page = oidc.log_in(hub, AGENT_COLLECTIVITE)
    assert page.status_code == 200 and f"identifiant {admin}" in page.text
    model = hub.api("GET", f"users/{admin}").json()
    assert model["admin"] is True and "collectivites" in model["groups"]
    assert session.get(hub.url + "/hub/admin", timeout=30).status_code == 200
    api = session.get(hub.url + "/services/catalog/api/projets", timeout=30).json()
    assert api["niveau"] == "expert"
