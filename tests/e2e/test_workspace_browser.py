"""A joint workspace in two real Chromium contexts: two experts edit the same notebook.

``expert`` creates the workspace from the canteen_attendance card link ("Développer à
plusieurs"), makes an invitation link; ``experte`` opens it, accepts (French page) and lands in
the same notebook. Each types into the first code cell; the other sees the text within 2 s
and the writer's name in the collaborators panel; ``experte`` commits from the git panel and
is the commit's author. Screenshots in test-artifacts/e2e.
"""

import subprocess
import time

import pytest

from hub.config.settings import Settings
from models.entries import REPO_ROOT
from tests.support import collab
from tests.support.browser import log_in
from tests.support.localhub import running_hub

ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
ENTRY = "canteen_attendance"
WS = "ws-cantines-a-plusieurs"
SEEN_WITHIN = 2.0


def _last_commit(folder):
    done = subprocess.run(["git", "log", "-1", "--format=%an|%cn|%s"], cwd=folder,
                          capture_output=True, text=True, check=True)  # fmt: skip
    return done.stdout.strip()


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    yield from running_hub(
        tmp_path_factory.mktemp("wshub"),
        {"BIBLIO_DEMO": "1", "BIBLIO_REPO_ROOT": str(Settings.from_env().repo_root)},
    )


def test_two_experts_edit_the_same_notebook(hub, chromium):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    a_ctx = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="fr-FR")
    b_ctx = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="fr-FR")
    a, b = a_ctx.new_page(), b_ctx.new_page()
    try:
        log_in(a, hub, "expert")
        a.goto(f"{hub.url}/services/catalog/connexion")
        a.goto(f"{hub.url}/services/catalog/projet/{ENTRY}")
        a.click("#developper")
        assert "/services/espaces/nouveau" in a.url
        a.screenshot(path=str(ARTIFACTS / "espace-creation.png"))
        collab.create_workspace(a, hub, "Cantines à plusieurs", ENTRY)
        assert f"/user/expert/{WS}/lab" in a.url
        # jupyterlab-git is there (its menu)
        assert a.locator(".lm-MenuBar-itemLabel", has_text="Git").count() == 1

        a2 = a_ctx.new_page()
        link = collab.invitation_link(a2, hub, WS)
        a2.screenshot(path=str(ARTIFACTS / "espace-lien.png"))
        log_in(b, hub, "experte")
        b.goto(link)
        b.wait_for_selector("#accepter")
        b.screenshot(path=str(ARTIFACTS / "espace-invitation.png"))
        collab.join_by_link(b, link, ENTRY)
        assert f"/user/expert/{WS}/lab" in b.url

        a_to_b = collab.propagation(a, b, "ecrit-par-expert")
        b_to_a = collab.propagation(b, a, "ecrit-par-experte")
        print(f"propagation expert→experte {a_to_b:.3f} s, experte→expert {b_to_a:.3f} s")
        assert a_to_b <= SEEN_WITHIN and b_to_a <= SEEN_WITHIN

        # the member commits from JupyterLab's git panel: the commit is authored by her
        collab.commit_with_git_panel(b, "Essai d'experte")
        b.screenshot(path=str(ARTIFACTS / "espace-commit-experte.png"))
        folder = hub.state_dir / "espaces" / "expert" / WS
        expected = f"experte|Espace {WS}|Essai d'experte"
        deadline = time.monotonic() + 15
        while (log := _last_commit(folder)) != expected and time.monotonic() < deadline:
            time.sleep(0.2)
        assert log == expected

        names_a, names_b = collab.collaborator_names(a), collab.collaborator_names(b)
        print("collaborators seen by expert:", names_a, "by experte:", names_b)
        assert names_a == ["experte"]
        a2.goto(f"{hub.url}/services/espaces/")
        owner_view = a2.locator(f"#espace-{WS}").inner_text()
        assert "experte" in owner_view and "Retirer" in owner_view
        a2.screenshot(path=str(ARTIFACTS / "espace-mes-espaces-createur.png"), full_page=True)
        b.screenshot(path=str(ARTIFACTS / "espace-experte.png"))
        assert names_b == ["expert"]
        a.screenshot(path=str(ARTIFACTS / "espace-expert.png"))
        b.screenshot(path=str(ARTIFACTS / "espace-experte.png"))

        # "Mes espaces" of the member: the workspace, its owner and both members
        b.goto(f"{hub.url}/services/espaces/")
        section = b.locator(f"#membre-expert-{WS}")
        assert "en marche" in section.inner_text() and "experte" in section.inner_text()
        b.screenshot(path=str(ARTIFACTS / "espace-mes-espaces.png"), full_page=True)
    finally:
        a_ctx.close()
        b_ctx.close()
