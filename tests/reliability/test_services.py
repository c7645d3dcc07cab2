"""Hub-managed services killed: the fork server and the catalog come back, nothing is lost.

JupyterHub restarts a managed service that exits (it polls them). Meanwhile a launch does
not wait for the fork server (the spawner starts the plain command), and the servers the
dead fork server had forked keep running and stay watched.
"""

import os
import re
import signal
import socket

import requests

from hub.spawners import forkserver
from hub.spawners.local import FALLBACK_LOG, FORKED_LOG
from tests.reliability.helpers import (
    answers,
    get_text,
    put_text,
    server_pid,
    service_pid,
    service_pids,
    wait_until,
)

CATALOG = "/services/catalog/"
# JupyterHub polls its managed services every 30 s (with up to 10 % jitter); then the
# service needs a few seconds to import and listen.
SERVICE_RESTART = 60


def catalog_page(hub) -> bool:
    r = requests.get(hub.url + CATALOG, params={"q": "cantines"}, timeout=10)
    return r.status_code == 200 and "Catalogue" in r.text


def catalog_session(hub, user: str) -> requests.Session:
    """A browser-like session logged in to the catalog through the hub's form and OAuth."""
    s = requests.Session()
    s.get(hub.url + "/hub/login", timeout=30)
    r = s.post(
        hub.url + "/hub/login?next=" + CATALOG + "connexion",
        data={
            "username": user,
            "password": hub.printed_passwords()[user],
            "_xsrf": s.cookies["_xsrf"],
        },
        timeout=30,
    )
    assert r.status_code == 200 and r.url.rstrip("/").endswith(CATALOG.rstrip("/")), r.url
    return s


def tier_shown(session, hub) -> str:
    """The access level the catalog's banner shows to ``session``."""
    page = session.get(hub.url + CATALOG, timeout=10).text
    found = re.search(r'<strong id="niveau">([^<]*)</strong>', page)
    return found.group(1) if found else ""


def forkserver_listens(hub, old_pid: int) -> bool:
    """A new fork server listens on the socket (the old one left a stale socket file)."""
    if service_pids(hub, "biblio-ia forkserver") in ([], [old_pid]):
        return False  # not started again yet
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.connect(str(forkserver.socket_path(hub.state_dir)))
    return True


def test_killed_fork_server_and_catalog_come_back(kept_hub, entry):
    hub = kept_hub
    tokens = hub.create_users(["service0", "service1", "service2"], ("experts",))
    hub.start_server("service0", entry, token=tokens["service0"])
    put_text(hub, "service0", entry, tokens["service0"], f"{entry}/garde.txt", "gardé")
    assert catalog_page(hub)
    expert = catalog_session(hub, "expert")
    assert tier_shown(expert, hub) == "expert"
    old_forkserver = service_pid(hub, "biblio-ia forkserver")
    catalog = service_pid(hub, "hub.catalog.service")
    os.kill(old_forkserver, signal.SIGKILL)
    os.kill(catalog, signal.SIGKILL)

    # A launch right away does not wait for the fork server: a plain start, with the reason.
    hub.start_server("service1", entry, token=tokens["service1"])
    assert answers(hub, "service1", entry, tokens["service1"])
    fallbacks = [line for line in hub.log_text().splitlines() if FALLBACK_LOG in line]
    assert len(fallbacks) == 1 and "service1" in fallbacks[0]

    # Both services are started again by the hub itself (same hub process), and serve.
    hub_pid = hub.proc.pid
    ok, seconds = wait_until(lambda: catalog_page(hub), SERVICE_RESTART, interval=0.5)
    assert ok, f"the catalog did not come back in {seconds:.0f} s"
    assert hub.proc.pid == hub_pid and hub.proc.poll() is None
    assert tier_shown(expert, hub) == "expert", "the catalog forgot who was logged in"
    back, seconds = wait_until(lambda: forkserver_listens(hub, old_forkserver), 45, interval=0.2)
    assert back, f"the fork server did not come back ({seconds:.0f} s after the catalog)"
    hub.start_server("service2", entry, token=tokens["service2"])
    pid = server_pid("service2", entry)
    assert f"{FORKED_LOG} pid {pid} for service2:{entry}" in hub.log_text()

    # The server forked by the dead fork server ran on, with its file, and is still watched.
    assert answers(hub, "service0", entry, tokens["service0"])
    assert get_text(hub, "service0", entry, tokens["service0"], f"{entry}/garde.txt") == "gardé"
    os.kill(server_pid("service0", entry), signal.SIGKILL)
    seconds = hub.wait_stopped("service0", entry, timeout=30)
    assert seconds <= 10, f"the hub noticed the death after {seconds:.1f} s"
    hub.start_server("service0", entry, token=tokens["service0"])
    assert get_text(hub, "service0", entry, tokens["service0"], f"{entry}/garde.txt") == "gardé"
