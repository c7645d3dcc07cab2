"""ProConnect in a real Chromium: the login page's button, a full login through the provider's
pages (a real oidc-provider on 127.0.0.1), the agent's name and organisation in the catalog
header, and the logout through the provider. Screenshots in test-artifacts/e2e/."""

from pathlib import Path

import pytest

from tests.support import oidc
from tests.support.oidc import AGENT_COLLECTIVITE

pytestmark = pytest.mark.e2e

CAT = "/services/catalog/"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"


@pytest.fixture(scope="module")
def pc(tmp_path_factory):
    yield from oidc.started(*oidc.proconnect_hub(tmp_path_factory.mktemp("proconnect-e2e")))


def _shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))  # what the agent sees first


def test_login_page_offers_the_proconnect_button(pc, chromium):
    hub, _ = pc
    page = chromium.new_page()
    page.goto(hub.url + "/hub/login")
    button = page.locator("#bouton-proconnect")
    button.wait_for()
    assert button.is_visible()
    label = page.inner_text("#bouton-proconnect > span")
    assert " ".join(label.split()) == "S'identifier avec ProConnect"
    assert button.get_attribute("aria-label") == "S'identifier avec ProConnect"
    box = button.bounding_box()
    assert box["height"] >= 48 and box["width"] >= 200  # the documented size, about 214 × 56
    colour = button.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(0, 0, 145)"  # #000091, ProConnect's blue
    link = page.locator("#quest-ce-que-proconnect")
    assert link.inner_text() == "Qu'est-ce que ProConnect ?"
    assert link.get_attribute("href") == "https://www.proconnect.gouv.fr/"
    assert page.locator("#username_input").count() == 0  # no password form in this mode
    _shot(page, "proconnect-login.png")
    # a return from ProConnect that belongs to no login started here: a French refusal
    page.goto(hub.url + "/hub/oauth_callback?code=abc&state=eyJzdGF0ZV9pZCI6ICJ4In0=")
    message = page.inner_text("#message-erreur")
    assert "La connexion ProConnect a expiré" in message and "Recommencez" in message
    _shot(page, "proconnect-refus.png")
    page.close()


def test_full_login_shows_name_and_organisation_then_logout(pc, chromium):
    hub, provider = pc
    context = chromium.new_context()
    page = context.new_page()
    page.goto(hub.url + "/hub/login")
    page.click("#bouton-proconnect")
    page.wait_for_selector("#email")
    assert page.url.startswith(provider.issuer + "/interaction/")
    _shot(page, "proconnect-provider-login.png")
    page.fill("#email", AGENT_COLLECTIVITE)
    page.fill("#password", "mot de passe de test")
    page.click("#se-connecter")
    page.wait_for_url(f"**{CAT}**")
    page.wait_for_selector("#identite")
    assert page.inner_text("#nom-agent") == "Jeanne Martin"
    assert page.inner_text("#organisation") == "Commune d'Exemple-sur-Loire"
    assert "restreint" in page.inner_text("#niveau")
    _shot(page, "proconnect-catalog-header.png")

    page.click("#compte >> text=Se déconnecter")
    page.wait_for_selector("#deconnexion-oui")
    assert page.url.startswith(provider.issuer)
    _shot(page, "proconnect-provider-logout.png")
    page.click("#deconnexion-oui")
    page.wait_for_url(f"**{CAT}**")
    page.wait_for_selector("#compte")
    assert "Visiteur" in page.inner_text("#compte")
    _shot(page, "proconnect-logged-out.png")
    # the provider's session is gone: ProConnect's button leads to its login page again
    page.goto(hub.url + "/hub/login")
    page.click("#bouton-proconnect")
    page.wait_for_selector("#email")
    context.close()
