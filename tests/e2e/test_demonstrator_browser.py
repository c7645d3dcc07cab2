"""A demonstrator in a real Chromium: log in, launch, the notebook renders, Run All plots."""

import re
import time

import pytest
import requests

from hub.config.settings import Settings
from hub.spawners import launch
from models.entries import REPO_ROOT, entry_ids
from tests.support.browser import log_in, wait_for_open_notebook
from tests.support.localhub import running_hub

ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
ENTRY_REPO = Settings.from_env().repo_root
ENTRIES = entry_ids(ENTRY_REPO) or [None]


@pytest.fixture(scope="module")
def demo_hub(tmp_path_factory):
    yield from running_hub(
        tmp_path_factory.mktemp("demohub"),
        {"BIBLIO_DEMO": "1", "BIBLIO_REPO_ROOT": str(ENTRY_REPO)},
    )


def wait_for_idle_kernel(hub, user, entry_id, timeout=60):
    """Wait until the notebook's kernel is started and idle (asked to the server's API)."""
    url = f"{hub.url}/user/{user}/{entry_id}/api/kernels"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = requests.get(url, headers={"Authorization": f"token {hub.token}"}, timeout=10)
        if r.ok and r.json() and all(k["execution_state"] == "idle" for k in r.json()):
            return
        time.sleep(0.2)
    raise AssertionError(f"no idle kernel after {timeout} s")


STARTED = (
    "() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) "
    ".jp-InputArea-prompt')].some(p => /\\[[*0-9]/.test(p.textContent))"
)


def run_all(page, attempts=3):
    """JupyterLab's Run menu > Run All Cells, found by command id (any UI language).

    Right after the page is drawn the browser may still be connecting to the kernel, and a
    Run All sent then is dropped by JupyterLab: retried until a cell shows [*] or [n].
    """
    for _ in range(attempts):
        page.locator(".lm-MenuBar-item", has_text=re.compile(r"^(Exécution|Run)$")).click()
        entry = page.locator('.lm-Menu-item[data-command="runmenu:run-all"]')
        entry.wait_for(state="visible", timeout=10_000)
        entry.click()
        try:
            page.wait_for_function(STARTED, timeout=10_000)
            return
        except Exception:  # noqa: BLE001 -- playwright TimeoutError: try again
            continue
    raise AssertionError("Run All never started any cell")


@pytest.mark.parametrize("entry_id", ENTRIES)
def test_expert_launches_and_runs_a_demonstrator(demo_hub, chromium, entry_id):
    if entry_id is None:
        pytest.fail(f"aucune entrée : aucun notebooks/*.ipynb dans {ENTRY_REPO}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="fr-FR")
    page = context.new_page()
    try:
        log_in(page, demo_hub, "expert")
        t0 = time.perf_counter()
        page.goto(demo_hub.url + launch.launch_url("/", "expert", entry_id))
        wait_for_open_notebook(page, f"{entry_id}.ipynb")
        rendered = time.perf_counter() - t0
        assert f"/user/expert/{entry_id}/lab" in page.url, "the entry's own named server"
        # French language pack in use, and no news question/pop-up
        page.wait_for_selector(".lm-MenuBar-item", timeout=30_000)
        menus = page.locator(".lm-MenuBar-item").all_inner_texts()
        assert "Fichier" in menus, menus
        assert page.locator("text=/Jupyter news|Actualités/").count() == 0

        wait_for_idle_kernel(demo_hub, "expert", entry_id)
        panel = ".jp-NotebookPanel:not(.lm-mod-hidden)"
        page.wait_for_selector(f'{panel} .jp-Notebook-ExecutionIndicator[data-status="idle"]')
        assert page.locator(".jp-NotebookPanel").count() == 1, "only this entry's notebook"
        run_all(page)
        page.wait_for_selector(".jp-OutputArea-output img", timeout=180_000)
        page.wait_for_function(
            "() => !document.querySelector('.jp-Notebook-ExecutionIndicator[data-status=busy]')"
            " && [...document.querySelectorAll('.jp-InputArea-prompt')]"
            ".every(p => !p.textContent.includes('*'))",
            timeout=180_000,
        )
        images = page.locator(".jp-OutputArea-output img")
        assert images.count() >= 1
        errors = page.locator(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'
        )
        assert errors.count() == 0
        page.screenshot(path=str(ARTIFACTS / f"demonstrator_{entry_id}.png"), full_page=False)
        print(f"{entry_id}: launch link -> notebook rendered in {rendered:.2f} s")
    except Exception:
        page.screenshot(path=str(ARTIFACTS / f"demonstrator_{entry_id}_echec.png"))
        raise
    finally:
        context.close()
        demo_hub.api("DELETE", f"users/expert/servers/{entry_id}")
