"""Integration layer: a real JupyterHub subprocess (real node proxy) shared by the folder.

Every test here is marked ``integration``. ``live_hub`` starts one hub per session with the
project's configuration (``tests.support.localhub.LocalHub``), demo mode on, state in a temporary
folder; its log is attached to the report of any failing test that used it (and only then).
``BIBLIO_REPO_ROOT`` points the hub at another tree of entries (development only).
"""

from pathlib import Path

import pytest

from hub.config.settings import Settings
from models.entries import entry_ids
from tests.support.localhub import LocalHub, running_hub

HERE = Path(__file__).resolve().parent
ENTRY_REPO = Settings.from_env().repo_root


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.integration)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    hub = getattr(item, "funcargs", {}).get("live_hub")
    if report.failed and isinstance(hub, LocalHub):
        report.sections.append(("hub log (last 200 lines)", _tail(hub.log_text(), 200)))


def _tail(text, n):
    return "\n".join(text.splitlines()[-n:])


@pytest.fixture(scope="session")
def entry_repo():
    return ENTRY_REPO


@pytest.fixture(scope="session")
def live_hub(tmp_path_factory):
    yield from running_hub(
        tmp_path_factory.mktemp("hub"), {"BIBLIO_REPO_ROOT": str(ENTRY_REPO), "BIBLIO_DEMO": "1"}
    )


def real_entries():
    """The entries to test; a sentinel when there is none, so that tests fail (not skip)."""
    return entry_ids(ENTRY_REPO) or [None]
