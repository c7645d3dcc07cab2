"""Reliability layer: real hubs (real node proxy, real fork server) put through faults.

Every test here is marked ``reliability`` and asserts that nothing was lost: servers still
running and reachable through the proxy, users' files unchanged, the next launch working.
Two hubs serve the whole folder (started once, on first use):

- ``kept_hub``: ``BIBLIO_KEEP_SERVERS=1`` and fixed internal ports, so that it can be
  stopped and started again while its demonstrators run (the servers find the same hub API);
  demo accounts (passwords printed in its log) for the logins through the hub's form;
- ``culling_hub``: the idle culler every second with a 6-second timeout.

The log of every hub a failing test used is attached to its report (and only then). At the
end, any process left under a hub's folder (servers kept on purpose) is killed.
"""

from pathlib import Path

import pytest

from hub.config.settings import Settings
from hub.shared import free_port
from models.entries import entry_ids
from tests.reliability.helpers import kill_leftovers, stop_all_servers
from tests.support.localhub import LocalHub

HERE = Path(__file__).resolve().parent
ENTRY_REPO = Settings.from_env().repo_root
CULL_TIMEOUT = 6


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.reliability)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for name, value in getattr(item, "funcargs", {}).items():
        if isinstance(value, LocalHub):
            report.sections.append((f"{name} log (last 200 lines)", _tail(value.log_text(), 200)))


def _tail(text, n):
    return "\n".join(text.splitlines()[-n:])


@pytest.fixture(scope="session")
def entry():
    ids = entry_ids(ENTRY_REPO)
    if not ids:
        pytest.fail(f"aucune entrée : aucun notebooks/*.ipynb dans {ENTRY_REPO}")
    return ids[0]


def _started(workdir, env):
    hub = LocalHub(workdir, env={"BIBLIO_REPO_ROOT": str(ENTRY_REPO), **env})
    try:
        hub.start()
    except RuntimeError as error:
        hub.stop()
        kill_leftovers(hub.workdir)
        pytest.fail(f"the hub did not start: {error}")
    return hub


def _finish(hub):
    try:
        if hub.proc is not None and hub.proc.poll() is None:
            stop_all_servers(hub)
    finally:
        hub.stop()
        kill_leftovers(hub.workdir)


@pytest.fixture(scope="session")
def kept_hub(tmp_path_factory):
    """A hub that leaves its servers running when it stops, with fixed internal ports."""
    env = {
        "BIBLIO_DEMO": "1",
        "BIBLIO_KEEP_SERVERS": "1",
        "BIBLIO_HUB_PORT": str(free_port()),
        "BIBLIO_PROXY_API_PORT": str(free_port()),
    }
    hub = _started(tmp_path_factory.mktemp("kept-hub"), env)
    yield hub
    _finish(hub)


@pytest.fixture(scope="session")
def culling_hub(tmp_path_factory):
    """A hub whose idle culler stops a server after ``CULL_TIMEOUT`` seconds without activity."""
    env = {"BIBLIO_CULL_TIMEOUT": str(CULL_TIMEOUT), "BIBLIO_CULL_EVERY": "1"}
    hub = _started(tmp_path_factory.mktemp("culling-hub"), env)
    yield hub
    _finish(hub)
