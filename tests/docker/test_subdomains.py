"""Docker mode with ``BIBLIO_SUBDOMAIN_HOST``: every user's servers and the catalog on their
own origin, through the real proxy (names under ``*.localhost``, asked for by Host header)."""

import pytest
import requests

from models.entries import entry_ids
from tests.docker.conftest import docker_env
from tests.support.dockerengine import remove_prefixed
from tests.support.localhub import LocalHub

ENTRY = (entry_ids() or ["canteen_attendance"])[0]


@pytest.fixture(scope="module")
def subdomain_hub(tmp_path_factory, docker_host, docker_client, image, prefix):
    own = prefix + "-sd"
    hub = LocalHub(tmp_path_factory.mktemp("subdomain-hub"), env=docker_env(docker_host, own))
    hub.extra_env["BIBLIO_SUBDOMAIN_HOST"] = f"http://biblio.localhost:{hub.port}"
    try:
        hub.start()
    except RuntimeError as error:
        hub.stop()
        pytest.fail(f"the hub (docker mode, subdomains) did not start: {error}")
    yield hub
    hub.stop()
    remove_prefixed(docker_client, own)


def _get(hub, host, path, **kwargs):
    headers = {"Host": f"{host}:{hub.port}", **kwargs.pop("headers", {})}
    return requests.get(hub.url + path, headers=headers, timeout=30, **kwargs)


def _redirects_to(hub, host, path, headers, hops=3):
    """Where the proxy and the hub finally send a request for ``path`` on ``host``."""
    for _ in range(hops):
        r = _get(hub, host, path, headers=headers, allow_redirects=False)
        location = r.headers.get("Location", "")
        if r.status_code not in (301, 302, 303, 307) or not location.startswith(
            ("/", f"http://{host}:{hub.port}/")
        ):
            return location or str(r.status_code)
        path = "/" + location.split("/", 3)[3] if location.startswith("http") else location
    return location


def test_each_user_and_the_catalog_have_their_own_origin(subdomain_hub):
    hub = subdomain_hub
    site = "biblio.localhost"
    token = hub.create_user("zoe", ("experts",))
    hub.start_server("zoe", ENTRY, token=token)
    try:
        url = hub.server_state("zoe", ENTRY)["url"]
        assert url == f"http://zoe.{site}:{hub.port}/user/zoe/{ENTRY}/"
        auth = {"Authorization": f"token {token}"}
        status = f"/user/zoe/{ENTRY}/api/status"
        r = _get(hub, f"zoe.{site}", status, headers=auth)
        assert r.status_code == 200 and "kernels" in r.json()
        # the hub's origin does not serve the user's server: it sends the browser there
        assert _redirects_to(hub, site, status, auth).startswith(f"http://zoe.{site}:{hub.port}/")
        # another user's origin does not serve it either
        r = _get(hub, f"autre.{site}", status, headers=auth, allow_redirects=False)
        assert r.status_code != 200
        # the catalog on its own origin, and the landing page sends visitors there
        catalog = f"catalog--service.{site}"
        r = _get(hub, catalog, "/services/catalog/")
        assert r.status_code == 200 and "Catalogue des projets" in r.content.decode()
        r = _get(hub, site, "/hub/", allow_redirects=False)
        assert r.headers["Location"] == f"http://{catalog}:{hub.port}/services/catalog/"
    finally:
        hub.stop_server("zoe", ENTRY)
