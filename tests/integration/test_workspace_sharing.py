"""Joint workspaces over HTTP, on the shared real hub: create, share, commit, stop, revoke.

One workspace for the whole module, made by the expert ``wsalice`` from canteen_attendance
through the workspaces service; ``wsbruno`` (expert) is invited by name, ``wschloe``
(collectivité) never is, the demo account ``collectivite`` joins with an invitation link.
The tests run in file order: the revocation comes last.
"""

import json
import re
import subprocess
import time
import uuid

import pytest
import requests
import websocket

from hub.workspaces.folder import member_identity

ENTRY = "canteen_attendance"
TITLE = "Cantines de l'Ouest"
WS = "ws-cantines-de-l-ouest"
REVOKE_LIMIT = 60.0
STOP_LIMIT = 5.0
WORKSPACE_ONLY_LAB = ("@jupyter/collaboration-extension", "@jupyter/docprovider-extension",
                      "@jupyterlab/git")  # fmt: skip


@pytest.fixture(scope="module")
def tokens(live_hub):
    return {
        "wsalice": live_hub.create_user("wsalice", ("experts",)),
        "wsbruno": live_hub.create_user("wsbruno", ("experts",)),
        "wschloe": live_hub.create_user("wschloe", ("collectivites",)),
    }


def _h(token):
    return {"Authorization": f"token {token}"}


def _service(hub, method, path, token, **kwargs):
    return requests.request(
        method,
        f"{hub.url}/services/espaces/{path}",
        headers=_h(token),
        timeout=120,
        allow_redirects=False,
        **kwargs,
    )


def _ws(hub, path, token, method="GET", **kwargs):
    return requests.request(
        method,
        f"{hub.url}/user/wsalice/{WS}/{path}",
        headers=_h(token),
        timeout=60,
        allow_redirects=False,
        **kwargs,
    )


def _git(folder, *args):
    return subprocess.run(
        ["git", *args], cwd=folder, capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture(scope="module")
def workspace(live_hub, tokens):
    r = _service(
        live_hub, "POST", "nouveau", tokens["wsalice"], data={"titre": TITLE, "entree": ENTRY}
    )
    assert r.status_code == 302, r.text[:500]
    assert r.headers["Location"].endswith(f"/ouvrir/wsalice/{WS}")
    r = requests.get(
        live_hub.url + r.headers["Location"], headers=_h(tokens["wsalice"]), allow_redirects=False
    )
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/user/wsalice/{WS}/")
    return live_hub.state_dir / "espaces" / "wsalice" / WS


def test_created_from_the_entry_as_a_git_repository(live_hub, tokens, workspace):
    for rel in (
        f"notebooks/{ENTRY}.ipynb",
        f"models/{ENTRY}/model.py",
        "models/io.py",
        f"datasets/{ENTRY}/sample.csv",
        "README.md",
    ):
        assert (workspace / rel).is_file(), rel
    assert not (workspace / "models" / "air_quality").exists()  # only this entry's package
    log = _git(workspace, "log", "--format=%an|%ae|%cn").splitlines()
    assert log == [f"wsalice|wsalice@biblio-ia.invalid|Espace {WS}"]
    assert _git(workspace, "status", "--porcelain") == ""
    # JupyterLab opens the entry's notebook; the server answers its owner
    r = _ws(live_hub, "api/contents/notebooks", tokens["wsalice"])
    assert r.status_code == 200 and f"{ENTRY}.ipynb" in r.text


def _disabled_lab_extensions(html):
    data = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                     html, re.S)  # fmt: skip
    return set(json.loads(data.group(1))["disabledExtensions"])


def test_collaboration_and_git_only_in_workspaces(live_hub, tokens, workspace):
    lab = _ws(live_hub, "lab", tokens["wsalice"])
    assert lab.status_code == 200
    disabled = _disabled_lab_extensions(lab.text)
    assert not disabled & set(WORKSPACE_ONLY_LAB)
    # the collaborative file browser replaces the default one (jupyter-collaboration)
    assert "@jupyterlab/filebrowser-extension:defaultFileBrowser" in disabled
    r = _ws(live_hub, "api/collaboration/session/README.md", tokens["wsalice"], "PUT",
            json={"format": "text", "type": "file"})  # fmt: skip
    assert r.status_code in (200, 201) and r.json()["fileId"]
    # a demonstrator of the same user: no collaboration server extension, no git
    live_hub.start_server("wsalice", ENTRY)
    demo = f"{live_hub.url}/user/wsalice/{ENTRY}/"
    r = requests.put(demo + "api/collaboration/session/x", headers=_h(tokens["wsalice"]),
                     json={"format": "text", "type": "file"}, timeout=30)  # fmt: skip
    assert r.status_code == 404
    assert (
        requests.get(demo + "git/settings", headers=_h(tokens["wsalice"]), timeout=30).status_code
        == 404
    )
    page = requests.get(demo + "lab", headers=_h(tokens["wsalice"]), timeout=30).text
    assert set(WORKSPACE_ONLY_LAB) <= _disabled_lab_extensions(page)
    live_hub.stop_server("wsalice", ENTRY)


def test_invited_member_reaches_it_a_non_member_gets_403(live_hub, tokens, workspace):
    # (no request of wsbruno before the invitation: a refusal is cached for
    # BIBLIO_WORKSPACE_ACCESS_CHECK seconds by the server, see docs/workspaces.md)
    r = _service(live_hub, "POST", f"inviter/{WS}", tokens["wsalice"], data={"membre": "wsbruno"})
    assert r.status_code == 302, r.text[:300]
    assert _ws(live_hub, "api/contents", tokens["wsbruno"]).status_code == 200
    assert _ws(live_hub, "api/contents", tokens["wschloe"]).status_code == 403
    r = _service(live_hub, "GET", f"ouvrir/wsalice/{WS}", tokens["wschloe"])
    assert r.status_code == 403
    # "Mes espaces" of the member lists it with its members
    page = _service(live_hub, "GET", "", tokens["wsbruno"]).text
    assert f'id="membre-wsalice-{WS}"' in page and "wsbruno" in page
    # only experts create; a stranger cannot invite into someone else's workspace
    r = _service(live_hub, "POST", "nouveau", tokens["wschloe"], data={"titre": "x"})
    assert r.status_code == 403
    r = _service(live_hub, "POST", f"inviter/{WS}", tokens["wsbruno"], data={"membre": "wschloe"})
    assert r.status_code in (400, 404)
    assert _ws(live_hub, "api/contents", tokens["wschloe"]).status_code == 403
    r = _service(live_hub, "POST", f"inviter/{WS}", tokens["wsalice"], data={"membre": "personne"})
    assert r.status_code == 400 and "Compte inconnu" in r.text


def test_a_members_commit_is_authored_by_the_member(live_hub, tokens, workspace):
    b = tokens["wsbruno"]
    r = _ws(live_hub, "api/contents/notes_bruno.md", b, "PUT",
            json={"type": "file", "format": "text", "content": "Essai de Bruno\n"})  # fmt: skip
    assert r.status_code in (200, 201), r.text[:300]
    assert _ws(live_hub, "git/add", b, "POST", json={"add_all": True}).status_code == 200
    r = _ws(live_hub, "git/commit", b, "POST", json={"commit_msg": "Note de Bruno"})
    assert r.status_code == 200, r.text[:300]
    assert _git(workspace, "log", "-1", "--format=%an <%ae>|%cn|%s").strip() == (
        f"{member_identity('wsbruno')}|Espace {WS}|Note de Bruno"
    )
    # a client cannot sign as someone else: the server sets the author
    _ws(live_hub, "api/contents/autre.md", b, "PUT",
        json={"type": "file", "format": "text", "content": "x\n"})  # fmt: skip
    _ws(live_hub, "git/add", b, "POST", json={"add_all": True})
    r = _ws(live_hub, "git/commit", b, "POST",
            json={"commit_msg": "Usurpation", "author": member_identity("wsalice")})  # fmt: skip
    assert r.status_code == 200
    assert _git(workspace, "log", "-1", "--format=%an").strip() == "wsbruno"
    page = _service(live_hub, "GET", "", tokens["wsalice"]).text
    assert "Note de Bruno — <em>wsbruno</em>" in page


def test_a_commit_typed_in_a_terminal_is_authored_by_the_member(live_hub, tokens, workspace):
    b = tokens["wsbruno"]
    # the client's own extra_env cannot sign for someone else
    forged = {"GIT_AUTHOR_NAME": "wsalice", "GIT_AUTHOR_EMAIL": "wsalice@ailleurs"}
    r = _ws(live_hub, "api/terminals", b, "POST", json={"extra_env": forged})
    assert r.status_code == 200, r.text[:300]
    name = r.json()["name"]
    url = f"{live_hub.url}/user/wsalice/{WS}/terminals/websocket/{name}"
    conn = websocket.create_connection(
        url.replace("http://", "ws://"), header=[f"Authorization: token {b}"], timeout=30
    )
    try:
        command = (
            f"cd '{workspace}' && echo terminal > terminal_bruno.md && "
            "git add terminal_bruno.md && git commit -q -m 'Depuis le terminal'\r"
        )
        conn.send(json.dumps(["stdin", command]))
        conn.settimeout(1)
        seen, deadline = [], time.monotonic() + 30
        while time.monotonic() < deadline:
            if "Depuis le terminal" in _git(workspace, "log", "-1", "--format=%s"):
                break
            try:
                seen.append(conn.recv())
            except websocket.WebSocketTimeoutException:
                pass
    finally:
        conn.close()
        _ws(live_hub, f"api/terminals/{name}", b, "DELETE")
    assert _git(workspace, "log", "-1", "--format=%an <%ae>|%s").strip() == (
        f"{member_identity('wsbruno')}|Depuis le terminal"
    ), "".join(seen)[-2000:]


def test_files_survive_stop_and_restart_stop_is_fast(live_hub, tokens, workspace):
    b = tokens["wsbruno"]
    base = f"{live_hub.url}/user/wsalice/{WS}/api/kernels"
    r = requests.post(base, headers=_h(b), json={"name": "python3"}, timeout=60)
    assert r.status_code == 201, r.text
    conn = websocket.create_connection(
        base.replace("http://", "ws://") + f"/{r.json()['id']}/channels",
        header=[f"Authorization: token {b}"],
        timeout=30,
    )
    try:
        t0 = time.monotonic()
        r = _service(live_hub, "POST", f"arreter/{WS}", tokens["wsalice"])
        assert r.status_code == 302
        took = live_hub.wait_stopped("wsalice", WS, timeout=30) + (time.monotonic() - t0)
    finally:
        conn.close()
    assert took <= STOP_LIMIT, f"arrêt en {took:.1f} s"
    assert (workspace / "notes_bruno.md").read_text() == "Essai de Bruno\n"
    page = _service(live_hub, "GET", "", tokens["wsalice"]).text
    assert re.search(rf'id="espace-{WS}" data-etat="arrêté"', page)
    # a member reopens it (the service starts it for them), files and history are there
    r = _service(live_hub, "GET", f"ouvrir/wsalice/{WS}", b)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/user/wsalice/{WS}/")
    r = _ws(live_hub, "api/contents/notes_bruno.md", b)
    assert r.status_code == 200 and r.json()["content"] == "Essai de Bruno\n"
    # the owner's first commit, two by the git extension, one typed in a terminal
    assert len(_git(workspace, "log", "--format=%H").split()) == 4


def _browser_session(hub, name):
    """A requests session logged in through the hub's form, as a browser would be."""
    s = requests.Session()
    s.get(f"{hub.url}/hub/login", timeout=30)
    r = s.post(
        f"{hub.url}/hub/login",
        data={"username": name, "password": hub.printed_passwords()[name],
              "_xsrf": s.cookies.get("_xsrf")},
        timeout=30,
        allow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 302, r.text[:300]
    return s


def test_invitation_link_lets_a_logged_in_user_join(live_hub, tokens, workspace):
    r = _service(live_hub, "POST", f"lien/{WS}", tokens["wsalice"], data={"duree": "3600"})
    assert r.status_code == 200
    link = re.search(r'id="lien-invitation" readonly size="90" value="([^"]+)"', r.text).group(1)
    link = link.replace("&amp;", "&")
    assert link.startswith(live_hub.url + "/hub/accept-share?code=")
    codes = live_hub.api("GET", f"share-codes/wsalice/{WS}").json()["items"]
    assert len(codes) == 1 and codes[0]["expires_at"]
    # the demo account "collectivite" (not an expert) opens the link, accepts, lands in the lab
    s = _browser_session(live_hub, "collectivite")
    page = s.get(link, timeout=30)
    assert page.status_code == 200
    html = page.content.decode("utf-8")
    assert "Invitation à un espace de travail commun" in html and "wsalice" in html
    form = dict(re.findall(r'name="(code|_xsrf)" value="([^"]*)"', html))
    assert form.get("code") and form.get("_xsrf"), page.text[:500]
    r = s.post(page.url, data=form, timeout=120)
    assert r.status_code == 200, r.text[:300]
    assert f"/user/wsalice/{WS}/lab" in r.url
    members = {
        i["user"]["name"] for i in live_hub.api("GET", f"shares/wsalice/{WS}").json()["items"]
    }
    assert members == {"wsbruno", "collectivite"}


def test_revoked_member_is_refused_within_60_s_open_sessions_included(live_hub, tokens, workspace):
    b = tokens["wsbruno"]
    base = f"{live_hub.url}/user/wsalice/{WS}/api/kernels"
    r = requests.post(base, headers=_h(b), json={"name": "python3"}, timeout=60)
    assert r.status_code == 201, r.text
    kernel = r.json()["id"]
    conn = websocket.create_connection(
        base.replace("http://", "ws://") + f"/{kernel}/channels",
        header=[f"Authorization: token {b}"],
        timeout=2,
    )
    assert _ws(live_hub, "api/contents", b).status_code == 200  # cached as allowed from now
    t0 = time.monotonic()
    r = _service(live_hub, "POST", f"retirer/{WS}", tokens["wsalice"], data={"membre": "wsbruno"})
    assert r.status_code == 302
    http_refused = ws_closed = None
    while time.monotonic() - t0 < REVOKE_LIMIT + 5 and (http_refused is None or ws_closed is None):
        if http_refused is None and _ws(live_hub, "api/contents", b).status_code == 403:
            http_refused = time.monotonic() - t0
        if ws_closed is None:
            try:
                if conn.recv() in ("", None) or not conn.connected:
                    ws_closed = time.monotonic() - t0
            except websocket.WebSocketTimeoutException:
                pass
            except (websocket.WebSocketConnectionClosedException, OSError):
                ws_closed = time.monotonic() - t0
        time.sleep(0.5)
    conn.close()
    assert http_refused is not None and http_refused <= REVOKE_LIMIT, http_refused
    assert ws_closed is not None and ws_closed <= REVOKE_LIMIT, ws_closed
    # reconnecting is refused too; the other member and the owner keep their access
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(
            base.replace("http://", "ws://") + f"/{kernel}/channels",
            header=[f"Authorization: token {b}"],
            timeout=10,
        )
    assert _ws(live_hub, "api/contents", tokens["wsalice"]).status_code == 200
    print(f"revocation: HTTP refused after {http_refused:.1f} s, websocket {ws_closed:.1f} s")


def test_service_forms_need_the_xsrf_token(live_hub):
    """A browser session (cookies) must send the form's _xsrf: without it, 403."""
    s = _browser_session(live_hub, "experte")
    page = s.get(f"{live_hub.url}/services/espaces/", timeout=60)
    assert page.status_code == 200 and "Mes espaces de travail communs" in page.text
    form = s.get(f"{live_hub.url}/services/espaces/nouveau", timeout=30).text
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form).group(1)
    url = f"{live_hub.url}/services/espaces/liens-annuler/ws-{uuid.uuid4().hex[:8]}"
    assert s.post(url, timeout=30, allow_redirects=False).status_code == 403
    assert s.post(url, data={"_xsrf": xsrf}, timeout=30, allow_redirects=False).status_code == 404


def test_fiche_offers_joint_development_to_experts(live_hub):
    s = _browser_session(live_hub, "experte")
    s.get(f"{live_hub.url}/services/catalog/connexion", timeout=60)
    page = s.get(f"{live_hub.url}/services/catalog/projet/{ENTRY}", timeout=30).text
    assert f'id="developper" href="/services/espaces/nouveau?entree={ENTRY}"' in page
    anon = requests.get(f"{live_hub.url}/services/catalog/projet/{ENTRY}", timeout=30).text
    assert 'id="developper"' not in anon


def test_a_workspace_for_a_non_expert_is_refused_before_anything_is_stored(live_hub, tokens):
    r = live_hub.api("POST", "users/wschloe/servers/ws-intrus")  # the test service may start it
    assert r.status_code == 403 and "réservés aux comptes experts" in r.json()["message"]
    servers = live_hub.api("GET", "users/wschloe?include_stopped_servers=1").json()["servers"]
    assert "ws-intrus" not in servers
    assert not (live_hub.state_dir / "espaces" / "wschloe").exists()
