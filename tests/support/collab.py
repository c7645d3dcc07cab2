"""Browser steps in a joint workspace, shared by the e2e layer and benchmarks/workspaces.py.

Every step drives the real pages (the workspaces service, the hub's invitation page,
JupyterLab with jupyter-collaboration) the way a person would, and returns what it measured.
"""

import re
import time

from tests.support.browser import wait_for_open_notebook

CODE_EDITOR = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .cm-content"
PANEL_TAB = '.lm-TabBar-tab[data-id="jp-collaboration-panel"]'
COLLABORATORS = ".jp-CollaboratorsList .jp-Collaborator"


def create_workspace(page, hub, title, entry_id, timeout=120_000):
    """Fill "Créer un espace" from the entry's card link; seconds from submit to lab drawn."""
    page.goto(f"{hub.url}/services/espaces/nouveau?entree={entry_id}")
    page.fill("#titre", title)
    t0 = time.perf_counter()
    page.click("#creer button[type=submit]")
    wait_for_open_notebook(page, f"{entry_id}.ipynb", timeout=timeout)
    return time.perf_counter() - t0


def invitation_link(page, hub, ws, duree="3600"):
    """The owner makes an invitation link on "Mes espaces"; return it."""
    page.goto(f"{hub.url}/services/espaces/")
    form = page.locator(f"#espace-{ws} form.lien")
    form.locator("select[name=duree]").select_option(duree)
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#lien-invitation")
    return page.input_value("#lien-invitation")


def join_by_link(page, link, entry_id, timeout=120_000):
    """Open the link, accept the invitation; seconds from opening the link to lab drawn."""
    t0 = time.perf_counter()
    page.goto(link)
    page.click("#accepter")
    wait_for_open_notebook(page, f"{entry_id}.ipynb", timeout=timeout)
    return time.perf_counter() - t0


def type_in_first_code_cell(page, text):
    """Put the cursor at the end of the first code cell and insert ``text`` at once."""
    editor = page.locator(CODE_EDITOR).first
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.insert_text(text)


def wait_for_text(page, text, timeout=10_000):
    """Seconds until ``text`` shows in a code cell of the open notebook."""
    t0 = time.perf_counter()
    page.wait_for_function(
        "([sel, t]) => [...document.querySelectorAll(sel)].some(e => e.textContent.includes(t))",
        arg=[CODE_EDITOR, text],
        timeout=timeout,
        polling="raf",
    )
    return time.perf_counter() - t0


def propagation(writer, reader, label, timeout=10_000):
    """Seconds from ``writer`` inserting a new token to ``reader`` showing it."""
    token = f" # {label}-{time.monotonic_ns() % 10**9}"
    type_in_first_code_cell(writer, "\n" + token.strip())
    t0 = time.perf_counter()
    wait_for_text(reader, token.strip(), timeout)
    return time.perf_counter() - t0


def collaborator_names(page, timeout=15_000):
    """Open the collaboration panel; the names it lists once somebody else is there.

    Each entry reads "<initials icon> <name>": the name is its last word.
    """
    if not page.locator(COLLABORATORS).first.is_visible():
        page.click(PANEL_TAB)
    page.wait_for_selector(COLLABORATORS, timeout=timeout)
    return [re.split(r"\s+", t.strip())[-1] for t in page.locator(COLLABORATORS).all_inner_texts()]


def commit_with_git_panel(page, message, timeout=30_000):
    """Save, then stage everything and commit from jupyterlab-git's panel, as a person would."""
    page.keyboard.press("Control+s")
    panel = page.locator("#jp-git-sessions")
    for _ in range(3):  # a click on the current tab of a collapsed side bar only expands it
        if panel.is_visible():
            break
        page.click('.lm-TabBar-tab[data-id="jp-git-sessions"]')
        page.wait_for_timeout(300)
    panel.locator('[title^="Rafraîchir"]').first.click()
    stage_all = panel.locator('[title="Planifier toutes les modifications"]').first
    stage_all.wait_for(state="attached", timeout=timeout)
    stage_all.dispatch_event("click")  # the button shows only while hovering its header
    box = panel.locator('[placeholder^="Commit message"]').first
    box.fill(message)
    panel.locator("button", has_text="Commit").first.click()
    # the message box empties once the commit is made
    page.wait_for_function(
        "() => !document.querySelector('#jp-git-sessions [placeholder^=\"Commit message\"]').value",
        timeout=timeout,
    )
