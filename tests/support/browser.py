"""Chromium helpers shared by the browser layer: start it, log in, check what JupyterLab shows."""

import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
CURRENT_TAB = "#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel"


def launch_chromium(playwright):
    """Debian's Chromium, headless; a clear failure when it is not installed."""
    if not shutil.which(CHROMIUM):
        pytest.fail("Chromium absent : `make test` l'installe (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)


def log_in(page, hub, user):
    """Log ``user`` in through the hub's login form with the password the hub printed."""
    page.goto(hub.url + "/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", hub.printed_passwords()[user])
    page.click("#login_submit")
    page.wait_for_load_state("load")
    assert "/hub/login" not in page.url, "login refused"


def wait_for_open_notebook(page, name, timeout=90_000):
    """Wait until JupyterLab shows the notebook ``name`` in its current main-area tab.

    JupyterLab rewrites the address bar as its file browser moves, so the tab — not the
    URL after rendering — tells which document the user is looking at.
    """
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=timeout)
    page.wait_for_function(
        "([sel, name]) => [...document.querySelectorAll(sel)].some(e => e.textContent === name)",
        arg=[CURRENT_TAB, name],
        timeout=timeout,
    )
