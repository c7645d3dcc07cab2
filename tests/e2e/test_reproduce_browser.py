"""« Essayer sur mes données » in a real Chromium: the demo collectivité opens the canteen
card, uploads an export whose columns have other names, maps one column, checks the file,
runs in quick mode, watches the progress, reads the report with its plots, downloads the
predictions, then erases the analysis; the demo expert opens the executed notebook of an
analysis in their own demonstrator. Screenshots in ``test-artifacts/e2e``."""

import csv
import re
from pathlib import Path

import pandas as pd
import pytest

from models.entries import entry_paths
from tests.support.browser import log_in, wait_for_open_notebook
from tests.support.localhub import running_hub

pytestmark = pytest.mark.e2e

CAT = "/services/catalog/"
REPRO = "/services/reproduce/"
ENTRY = "canteen_attendance"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    yield from running_hub(tmp_path_factory.mktemp("reprohub"), {"BIBLIO_DEMO": "1"})


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """The canteen sample as an agent's export: ';', other names for the meals and the day."""
    frame = pd.read_csv(entry_paths(ENTRY).sample, dtype=str)
    frame = frame.rename(columns={"reel": "Couverts servis", "date": "Jour"})
    path = tmp_path_factory.mktemp("export") / "export_cantines.csv"
    frame.to_csv(path, sep=";", index=False)
    return path


def shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"reproduce_{name}.png"), full_page=True)


def test_collectivite_tries_the_canteen_model_on_its_export(hub, chromium, export, tmp_path):
    page = chromium.new_page(accept_downloads=True, viewport={"width": 1280, "height": 900})
    log_in(page, hub, "collectivite")
    page.goto(hub.url + CAT + f"projet/{ENTRY}")
    shot(page, "1_fiche")
    page.click("#essayer-mes-donnees")
    page.wait_for_url(f"**{REPRO}nouvelle/{ENTRY}")
    assert "Colonnes attendues" in page.content()
    page.set_input_files("#fichier", str(export))
    shot(page, "2_televersement")
    page.click("#envoyer")
    page.wait_for_url("**/colonnes")

    # the day is recognised from its alias; the meals column must be chosen by the agent
    assert page.input_value("#col_date") == "Jour"
    assert page.input_value("#col_reel") == ""
    assert page.locator("#apercu tbody tr").count() == 8
    page.select_option("#col_reel", "Couverts servis")
    shot(page, "3_colonnes")
    page.click("#valider-colonnes")
    page.wait_for_url("**/validation")
    verdict = page.text_content("#verdict")
    assert "Fichier utilisable" in verdict and page.text_content("#note") in "ABCDE"
    assert "16\u202f830 lignes" in page.text_content("#rapport-validation")
    page.check("#p_quick")
    shot(page, "4_validation")
    page.click("#lancer")
    page.wait_for_url("**/analyse/*")
    job_url = page.url

    # live progress without reloading: a cell of the notebook with its section title
    page.locator("#detail", has_text="Cellule").wait_for(timeout=120_000)
    assert " sur " in page.text_content("#detail")
    shot(page, "5_progression")
    page.wait_for_selector("#rapport", timeout=180_000)  # the page reloads once done
    assert page.text_content("#etat") == "terminée"
    report = page.frame_locator("#rapport")
    report.locator("img").first.wait_for(timeout=30_000)
    assert report.locator("img").count() >= 3, "the report shows its plots"
    shot(page, "6_resultats")

    with page.expect_download() as info:
        page.click("#telechargements a:has-text('predictions.csv')")
    saved = tmp_path / "predictions.csv"
    info.value.save_as(saved)
    with open(saved, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert len(rows) > 10 and len(rows[0]) >= 3

    # « Mes analyses » lists it; a POST without the XSRF token is refused
    page.click("#mes-analyses")
    row = page.locator("#analyses tbody tr").first
    assert "terminée" in row.text_content() and "export_cantines.csv" in row.text_content()
    shot(page, "7_mes_analyses")
    forged = page.request.post(job_url + "/supprimer", form={"x": "1"}, max_redirects=0)
    assert forged.status == 403
    page.goto(job_url)
    assert page.text_content("#etat") == "terminée", "still there"

    # erasure in one click
    page.wait_for_load_state("networkidle")  # the report's frame is loaded
    with page.expect_navigation(url=re.compile(r"/services/reproduce/\?supprime=1$")):
        page.click("#supprimer")
    assert "supprimés" in page.content()
    assert page.locator("#aucune-analyse").count() == 1
    assert page.goto(job_url).status == 404
    page.close()


def test_expert_opens_an_analysis_in_their_demonstrator(hub, chromium):
    """The browser's own session (the service's OAuth cookie, not an API token) starts the
    expert's demonstrator and puts the executed notebook in it."""
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, hub, "expert")
    page.goto(hub.url + REPRO + f"nouvelle/{ENTRY}")
    page.set_input_files("#fichier", str(entry_paths(ENTRY).sample))
    page.click("#envoyer")
    page.wait_for_url("**/colonnes")
    page.click("#valider-colonnes")
    page.wait_for_url("**/validation")
    page.check("#p_quick")
    page.click("#lancer")
    page.wait_for_url("**/analyse/*")
    page.wait_for_selector("#rapport", timeout=180_000)
    assert hub.server_state("expert", ENTRY) is None
    shot(page, "8_expert_resultats")
    # the notebook's name from the service's redirect: JupyterLab rewrites the address bar
    with page.expect_response(lambda r: r.url.endswith("/ouvrir"), timeout=120_000) as sent:
        page.click("#ouvrir")
    assert sent.value.status == 303, sent.value.status
    location = sent.value.headers["location"]
    assert f"/user/expert/{ENTRY}/lab/" in location
    name = re.search(r"analyses/(analyse-[^/?#]+\.ipynb)$", location).group(1)
    wait_for_open_notebook(page, name, timeout=120_000)
    # the executed notebook comes with its outputs (JupyterLab draws the visible cells only)
    page.locator(".jp-OutputArea-output").first.wait_for(timeout=30_000)
    shot(page, "9_expert_demonstrateur")
    page.close()
