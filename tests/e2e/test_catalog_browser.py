"""The catalog in a real Chromium: anonymous search and filters, tiers, expert launch."""

from pathlib import Path

import pytest

from tests.support.browser import log_in, wait_for_open_notebook
from tests.support.localhub import running_hub

pytestmark = pytest.mark.e2e

CAT = "/services/catalog/"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    for h in running_hub(tmp_path_factory.mktemp("cathub"), {"BIBLIO_DEMO": "1"}):
        yield h
        h.api("DELETE", "users/expert/servers/canteen_attendance")


def login(page, hub, user):
    log_in(page, hub, user)
    page.wait_for_url(f"**{CAT}**")  # the catalog is the landing page


def test_anonymous_search_and_filter(hub, chromium):
    page = chromium.new_page()
    page.goto(hub.url + "/")
    page.wait_for_selector("#projets")
    assert page.url.endswith(CAT) and "Visiteur" in page.inner_text("#compte")
    page.fill("#q", "cantines")
    page.click("#chercher")
    page.wait_for_url("**q=cantines**")
    ids = page.eval_on_selector_all(".projet", "els => els.map(e => e.dataset.id)")
    # ours first, then the national snapshot's record of the same project (Nantes Métropole)
    assert ids[0] == "canteen_attendance"
    assert "nantes-metropole-ia-cantines" in ids[1:]
    assert not {"air_quality", "bike_counters"} & set(ids)
    page.fill("#q", "")
    page.select_option("#f-theme", "Mobilités")
    page.click("#chercher")
    page.wait_for_url("**theme=**")
    ids = page.eval_on_selector_all(".projet", "els => els.map(e => e.dataset.id)")
    assert ids[0] == "bike_counters"
    assert not {"air_quality", "canteen_attendance"} & set(ids)  # the rest: national records
    page.click("text=Détection d'anomalies dans les comptages vélo")
    page.wait_for_selector("#champs-publics")
    assert page.locator("#champs-restreints").count() == 0
    assert page.locator("#lancer").count() == 0
    page.close()


def test_collectivite_sees_restricted_fields_but_no_launch(hub, chromium):
    ctx = chromium.new_context()
    page = ctx.new_page()
    login(page, hub, "collectivite")
    page.goto(hub.url + CAT + "projet/canteen_attendance")
    assert "restreint" in page.inner_text("#niveau")
    text = page.inner_text("#champs-restreints")
    assert "Prévision quantile de la fréquentation par cantine" in text
    assert page.locator("#lancer").count() == 0 and page.locator("#page-expert").count() == 0
    ctx.close()


def test_expert_launches_a_demonstrator_from_its_card(hub, chromium):
    ctx = chromium.new_context()
    page = ctx.new_page()
    login(page, hub, "expert")
    page.goto(hub.url + CAT + "projet/canteen_attendance")
    assert page.inner_text("#niveau") == "expert"
    page.click("#lancer")
    wait_for_open_notebook(page, "canteen_attendance.ipynb")
    assert "/user/expert/canteen_attendance/lab" in page.url, "the entry's own named server"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "catalog_expert_launch.png"))
    ctx.close()
