"""The catalog in a real Chromium: anonymous search and filters, tiers, expert launch."""

import shutil
from pathlib import Path

import pytest

from hub import launch
from hub.localhub import LocalHub

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
CAT = "/services/catalog/"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    h = LocalHub(tmp_path_factory.mktemp("cathub"), env={"BIBLIO_DEMO": "1"})
    try:
        h.start()
    except RuntimeError as error:
        h.stop()
        pytest.fail(f"the hub did not start: {error}")
    yield h
    h.api("DELETE", "users/expert/servers/canteen_attendance")
    h.stop()


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail("Chromium absent : `make test` l'installe (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def login(page, hub, user):
    password = hub.printed_passwords()[user]
    page.goto(hub.url + "/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", password)
    page.click("#login_submit")
    page.wait_for_url(f"**{CAT}**")  # the catalog is the landing page


def test_anonymous_search_and_filter(hub, browser):
    page = browser.new_page()
    page.goto(hub.url + "/")
    page.wait_for_selector("#projets")
    assert page.url.endswith(CAT) and "Visiteur" in page.inner_text("#compte")
    page.fill("#q", "cantines")
    page.click("#chercher")
    page.wait_for_url("**q=cantines**")
    ids = page.eval_on_selector_all(".projet", "els => els.map(e => e.dataset.id)")
    assert ids == ["canteen_attendance"]
    page.fill("#q", "")
    page.select_option("#f-theme", "Mobilités")
    page.click("#chercher")
    page.wait_for_url("**theme=**")
    ids = page.eval_on_selector_all(".projet", "els => els.map(e => e.dataset.id)")
    assert ids == ["bike_counters"]
    page.click("text=Détection d'anomalies dans les comptages vélo")
    page.wait_for_selector("#champs-publics")
    assert page.locator("#champs-restreints").count() == 0
    assert page.locator("#lancer").count() == 0
    page.close()


def test_collectivite_sees_restricted_fields_but_no_launch(hub, browser):
    ctx = browser.new_context()
    page = ctx.new_page()
    login(page, hub, "collectivite")
    page.goto(hub.url + CAT + "projet/canteen_attendance")
    assert "restreint" in page.inner_text("#niveau")
    text = page.inner_text("#champs-restreints")
    assert "Prévision quantile de la fréquentation par cantine" in text
    assert page.locator("#lancer").count() == 0 and page.locator("#page-expert").count() == 0
    ctx.close()


def test_expert_launches_a_demonstrator_from_its_card(hub, browser):
    ctx = browser.new_context()
    page = ctx.new_page()
    login(page, hub, "expert")
    page.goto(hub.url + CAT + "projet/canteen_attendance")
    assert page.inner_text("#niveau") == "expert"
    page.click("#lancer")
    notebook = launch.notebook_url("/", "expert", "canteen_attendance")
    page.wait_for_url(f"**{notebook}", timeout=90_000)
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "catalog_expert_launch.png"))
    assert page.url.endswith(notebook)
    ctx.close()
