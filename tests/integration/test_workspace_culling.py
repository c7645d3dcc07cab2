"""The idle culler stops an idle workspace like a demonstrator; its folder and history stay.

Its own hub (culler timeout 3 s, a pass every 2 s): a workspace made through the service is
left alone until the culler stops it; it is still listed (stopped), and « Ouvrir » brings it
back with its files.
"""

import re
import subprocess
import time

import pytest
import requests

from hub.config.settings import Settings
from tests.support.localhub import running_hub

WS = "ws-a-laisser"


@pytest.fixture(scope="module")
def culling_hub(tmp_path_factory):
    yield from running_hub(
        tmp_path_factory.mktemp("cullhub"),
        {
            "BIBLIO_REPO_ROOT": str(Settings.from_env().repo_root),
            "BIBLIO_CULL_TIMEOUT": "3",
            "BIBLIO_CULL_EVERY": "2",
        },
    )


def test_idle_workspace_is_culled_files_kept(culling_hub):
    hub = culling_hub
    token = hub.create_user("wscull", ("experts",))
    headers = {"Authorization": f"token {token}"}
    r = requests.post(
        f"{hub.url}/services/espaces/nouveau",
        headers=headers,
        data={"titre": "À laisser", "entree": ""},
        allow_redirects=False,
        timeout=60,
    )
    assert r.status_code == 302, r.text[:300]
    hub.wait_ready("wscull", WS)
    folder = hub.state_dir / "espaces" / "wscull" / WS
    (folder / "notes.md").write_text("à garder\n", encoding="utf-8")
    t0 = time.monotonic()
    culled = hub.wait_stopped("wscull", WS, timeout=60)
    print(f"culled after {culled:.1f} s")
    assert re.search(rf"DELETE /hub/api/users/wscull/servers/{WS} \(idle-culler@", hub.log_text())
    assert time.monotonic() - t0 < 60
    model = hub.api("GET", "users/wscull?include_stopped_servers=1").json()
    assert WS in model["servers"] and not model["servers"][WS]["ready"]
    assert (folder / "notes.md").read_text(encoding="utf-8") == "à garder\n"
    log = subprocess.run(
        ["git", "log", "--format=%an"], cwd=folder, capture_output=True, text=True, check=True
    )
    assert log.stdout.split() == ["wscull"]
    r = requests.get(
        f"{hub.url}/services/espaces/ouvrir/wscull/{WS}",
        headers=headers,
        allow_redirects=False,
        timeout=120,
    )
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/user/wscull/{WS}/")
    r = requests.get(f"{hub.url}/user/wscull/{WS}/api/contents/notes.md", headers=headers)
    assert r.status_code == 200 and r.json()["content"] == "à garder\n"
