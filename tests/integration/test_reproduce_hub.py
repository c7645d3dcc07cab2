"""« Essayer sur mes données » on a real hub: access, upload through HTTP with a
collectivité's token, a job run to its report, downloads, isolation between users, the
size limit, and a service killed while jobs wait and run (every job ends, none is lost).

Shares the session's ``live_hub`` (demo mode); the canteen sample with renamed columns is
the user's file, run in quick mode.
"""

import signal
import time

import pandas as pd
import psutil
import pytest
import requests

from models.entries import entry_paths

REPRO = "/services/reproduce/"
CAT = "/services/catalog/"
ENTRY = "canteen_attendance"
FINAL = {"done", "failed", "interrupted"}


@pytest.fixture(scope="module")
def tokens(live_hub):
    toks = live_hub.create_users(["agent-a", "agent-b"], ("collectivites",))
    toks["expert-r"] = live_hub.create_user("expert-r", ("experts",))
    toks["sans-groupe"] = live_hub.create_user("sans-groupe")
    return toks


@pytest.fixture(scope="module")
def their_file(tmp_path_factory):
    """The canteen sample as an agent's export: other column names, ';', decimal comma."""
    frame = pd.read_csv(entry_paths(ENTRY).sample, dtype=str)
    frame = frame.rename(columns={"reel": "Couverts servis", "date": "Jour du service"})
    frame.loc[3, "site_nom"] = "<script>alert(1)</script>"
    path = tmp_path_factory.mktemp("fichier") / "frequentation.csv"
    frame.to_csv(path, sep=";", index=False)
    return path


def h(token, **extra):
    return {"Authorization": f"token {token}", **extra}


def upload(hub, token, path, name="fréquentation 2024.csv"):
    with open(path, "rb") as f:
        return requests.post(
            hub.url + REPRO + f"api/televersement/{ENTRY}",
            headers=h(token, **{"X-Nom-Fichier": requests.utils.quote(name)}),
            data=f,
            timeout=60,
        )


def submit(hub, token, upload_id, **params):
    body = {"column_map": {"Couverts servis": "reel", "Jour du service": "date"},
            "params": {"quick": "1", **params}}  # fmt: skip
    return requests.post(
        hub.url + REPRO + f"api/fichiers/{upload_id}/analyse", headers=h(token), json=body,
        timeout=30,
    )  # fmt: skip


def wait_final(hub, token, job_id, timeout=240):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        r = requests.get(hub.url + REPRO + f"api/analyses/{job_id}", headers=h(token), timeout=30)
        if r.status_code == 200:
            data = r.json()
            seen.append(data)
            if data["etat"] in FINAL:
                return data, seen
        time.sleep(0.3)
    raise TimeoutError(f"job {job_id} not finished: {seen[-1:]}")


def test_access_needs_the_reproduce_scope(live_hub, tokens):
    r = requests.get(live_hub.url + REPRO, headers=h(tokens["agent-a"]), timeout=30)
    assert r.status_code == 200 and "Mes analyses" in r.text
    r = requests.get(live_hub.url + REPRO, headers=h(tokens["sans-groupe"]), timeout=30)
    assert r.status_code == 403 and "réservé aux agents des collectivités" in r.text
    r = requests.get(live_hub.url + REPRO, timeout=30, allow_redirects=False)
    assert r.status_code == 302 and "/hub/api/oauth2/authorize" in r.headers["Location"]
    # the catalog shows the button to holders of the scope only
    card = CAT + f"projet/{ENTRY}"
    r = requests.get(live_hub.url + card, headers=h(tokens["agent-a"]), timeout=30)
    assert "Essayer sur mes données" in r.text and f"{REPRO}nouvelle/{ENTRY}" in r.text
    assert "Mes analyses" in r.text
    for who in ("sans-groupe", None):
        r = requests.get(live_hub.url + card, headers=h(tokens[who]) if who else {}, timeout=30)
        assert r.status_code == 200 and "Essayer sur mes données" not in r.text
    # on the list, on each project with a reference model (our three entries), none other
    listing = requests.get(live_hub.url + CAT, headers=h(tokens["agent-a"]), timeout=30).text
    assert listing.count(f"{REPRO}nouvelle/") == 3


def test_spreadsheets_are_read(live_hub, tokens, their_file, tmp_path):
    frame = pd.read_csv(their_file, sep=";", dtype=str, nrows=50)
    for suffix, engine in ((".xlsx", "openpyxl"), (".ods", "odf")):
        path = tmp_path / f"export{suffix}"
        frame.to_excel(path, index=False, engine=engine)
        r = upload(live_hub, tokens["agent-b"], path, name=path.name)
        assert r.status_code == 201, r.text
        assert r.json()["format"] == suffix[1:]
        page = requests.get(live_hub.url + r.json()["suite"], headers=h(tokens["agent-b"]),
                            timeout=30).text  # fmt: skip
        assert "Couverts servis" in page and "Jour du service" in page
        assert f"« {path.name} »" in page


def test_upload_run_results_and_isolation(live_hub, tokens, their_file):
    a, b = tokens["agent-a"], tokens["agent-b"]
    r = upload(live_hub, a, their_file)
    assert r.status_code == 201, r.text
    up = r.json()
    assert up["taille"] == their_file.stat().st_size and up["format"] == "text"
    # the mapping page lists the file's columns, escaped, and suggests from the aliases
    page = requests.get(live_hub.url + up["suite"], headers=h(a), timeout=30)
    assert page.status_code == 200 and "Couverts servis" in page.text
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text
    assert '<option value="site_nom" selected>' in page.text  # same name: pre-selected
    # another user's upload is invisible
    assert requests.get(live_hub.url + up["suite"], headers=h(b), timeout=30).status_code == 404
    assert submit(live_hub, b, up["id"]).status_code == 404
    # parameters are checked as the runner does
    bad = submit(live_hub, a, up["id"], horizon_days="99")
    assert bad.status_code == 422 and "entre 1 et 60" in bad.json()["erreur"]

    r = submit(live_hub, a, up["id"])
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["etat"] in ("queued", "running")
    final, seen = wait_final(live_hub, a, job["id"])
    assert final["etat"] == "done", final
    assert final["note"] in "ABCDE" and final["chiffre"].startswith("Surproduction")
    cells = [
        s["progression"]["cellule"] for s in seen if (s.get("progression") or {}).get("cellule")
    ]
    assert cells and cells == sorted(cells), "progress goes forward cell by cell"

    base = live_hub.url + REPRO + f"analyse/{job['id']}"
    pred = requests.get(base + "/telecharger/predictions.csv", headers=h(a), timeout=30)
    assert pred.status_code == 200 and "attachment" in pred.headers["Content-Disposition"]
    assert len(pred.text.splitlines()) > 10
    metrics = requests.get(base + "/telecharger/metrics.json", headers=h(a), timeout=30).json()
    assert metrics["entry_id"] == ENTRY and metrics["data"]["grade"] == final["note"]
    run = requests.get(base + "/telecharger/run.json", headers=h(a), timeout=30).json()
    assert run["input"]["path"] == "fréquentation 2024.csv", "no server path in run.json"
    assert run["column_map"] == {"Couverts servis": "reel", "Jour du service": "date"}
    assert requests.get(base + "/telecharger/lignes_ecartees.csv", headers=h(a), timeout=30).ok
    report = requests.get(base + "/rapport", headers=h(a), timeout=30)
    assert report.status_code == 200 and "sandbox" in report.headers["Content-Security-Policy"]
    assert "data:image/png;base64" in report.text
    assert "fréquentation 2024.csv" in report.text, "the report names the user's file"
    assert "/uploads/" not in report.text and str(live_hub.state_dir) not in report.text
    page = requests.get(base, headers=h(a), timeout=30).text
    assert "predictions.csv" in page and 'sandbox src="' in page
    assert requests.get(base + "/telecharger/notebook", headers=h(a), timeout=30).status_code == 404
    assert (
        requests.get(base + "/telecharger/..%2Fjob.json", headers=h(a), timeout=30).status_code
        == 404
    )

    # agent-b sees nothing of it
    for path in ("", "/rapport", "/telecharger/predictions.csv"):
        assert requests.get(base + path, headers=h(b), timeout=30).status_code == 404
    api = live_hub.url + REPRO + f"api/analyses/{job['id']}"
    assert requests.get(api, headers=h(b), timeout=30).status_code == 404
    assert requests.delete(api, headers=h(b), timeout=30).status_code == 404
    listing = requests.get(live_hub.url + REPRO + "api/analyses", headers=h(b), timeout=30)
    assert listing.json() == {"analyses": []}
    mine = requests.get(live_hub.url + REPRO, headers=h(a), timeout=30).text
    assert "fréquentation 2024.csv" in mine and "terminée" in mine

    # erasure: the job, its folder and its upload are gone
    assert requests.delete(api, headers=h(a), timeout=30).status_code == 204
    assert requests.get(api, headers=h(a), timeout=30).status_code == 404
    root = live_hub.state_dir / "reproduce" / "users"
    assert not list(root.glob(f"*/jobs/{job['id']}")) and not list(
        root.glob(f"*/uploads/{up['id']}*")
    )


def test_an_expert_opens_the_executed_notebook_in_their_demonstrator(live_hub, tokens, their_file):
    e, a = tokens["expert-r"], tokens["agent-a"]
    up = upload(live_hub, e, their_file).json()
    job = submit(live_hub, e, up["id"]).json()
    final, _ = wait_final(live_hub, e, job["id"])
    assert final["etat"] == "done", final
    base = live_hub.url + REPRO + f"analyse/{job['id']}"
    page = requests.get(base, headers=h(e), timeout=30).text
    assert "Ouvrir dans mon démonstrateur" in page
    # a collectivité may not (not an expert), on its own analyses or this one
    assert requests.post(base + "/ouvrir", headers=h(a), timeout=30).status_code in (403, 404)
    assert live_hub.server_state("expert-r", ENTRY) is None  # no demonstrator yet

    r = requests.post(base + "/ouvrir", headers=h(e), timeout=180, allow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    location = r.headers["Location"]
    prefix = f"/user/expert-r/{ENTRY}/lab/workspaces/{ENTRY}/tree/{ENTRY}/analyses/analyse-"
    assert location.startswith(prefix) and location.endswith(f"-{job['id'][:8]}.ipynb")
    assert live_hub.server_state("expert-r", ENTRY)["ready"]  # started by the service
    # the executed notebook is in the expert's own demonstrator, outputs and all
    path = location.split("/tree/", 1)[1]
    nb = requests.get(
        live_hub.url + f"/user/expert-r/{ENTRY}/api/contents/{path}",
        headers=h(e),
        timeout=30,
    )
    assert nb.status_code == 200, nb.text[:300]
    cells = nb.json()["content"]["cells"]
    assert any(c.get("outputs") for c in cells if c["cell_type"] == "code")
    text = nb.text
    assert "/uploads/" not in text and str(live_hub.state_dir) not in text
    # and the seeded demonstrator is there beside it
    seeded = requests.get(
        live_hub.url + f"/user/expert-r/{ENTRY}/api/contents/{ENTRY}", headers=h(e), timeout=30
    )
    assert {"analyses", f"{ENTRY}.ipynb"} <= {f["name"] for f in seeded.json()["content"]}
    # the user's token reaches no other expert's server through the service's rights
    assert requests.get(
        live_hub.url + f"/user/expert-r/{ENTRY}/api/contents/{path}",
        headers=h(a),
        timeout=30,
        allow_redirects=False,
    ).status_code in (302, 403, 404)
    live_hub.stop_server("expert-r", ENTRY)


def test_size_limit_answers_in_french(live_hub, tokens):
    big = b"date;reel\n" + b"2024-01-01;1\n" * ((50 << 20) // 13 + 10)
    assert len(big) > 50 << 20
    r = requests.post(
        live_hub.url + REPRO + f"api/televersement/{ENTRY}",
        headers=h(tokens["agent-a"]),
        data=big,
        timeout=120,
    )
    assert r.status_code == 413
    assert "Fichier trop volumineux" in r.json()["erreur"] and "50,0 Mo" in r.json()["erreur"]
    folder = live_hub.state_dir / "reproduce" / "users"
    assert not list(folder.glob("*/uploads/*.part")), "nothing half-written is kept"


def service_process(hub):
    for proc in psutil.Process(hub.proc.pid).children(recursive=True):
        try:
            if " -m hub.reproduce " in f" {' '.join(proc.cmdline())} ":
                return proc
        except psutil.NoSuchProcess:
            continue
    raise LookupError("reproduce service not found")


def orphans(hub):
    """Processes of this hub's reproduce service left without their parent."""
    found = []
    for proc in psutil.process_iter(["ppid", "cmdline"]):
        try:
            if proc.info["ppid"] != 1 or "spawn_main" not in " ".join(proc.info["cmdline"] or []):
                continue
            if proc.environ().get("BIBLIO_STATE_DIR") == str(hub.state_dir):
                found.append(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def describe(pids, since):
    """What an orphan is doing, for the failure message."""
    lines = []
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            lines.append(
                f"{pid}: started {proc.create_time() - since:+.1f} s after the kill, "
                f"{proc.status()}, {proc.num_threads()} threads, cpu {proc.cpu_times()}, "
                f"{' '.join(proc.cmdline())}"
            )
        except psutil.Error as exc:
            lines.append(f"{pid}: {exc}")
    return "\n".join(lines)


def test_killed_service_loses_no_job(live_hub, tokens, their_file):
    jobs = {}
    for who in ("agent-a", "agent-b", "expert-r"):
        for _ in range(2 if who != "expert-r" else 1):
            up = upload(live_hub, tokens[who], their_file).json()
            r = submit(live_hub, tokens[who], up["id"])
            assert r.status_code == 201, r.text
            jobs[r.json()["id"]] = who
    # wait until some run and some wait, then kill the service (SIGKILL: no goodbye)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        states = [
            requests.get(live_hub.url + REPRO + f"api/analyses/{j}", headers=h(tokens[w]),
                         timeout=30).json()["etat"]
            for j, w in jobs.items()
        ]  # fmt: skip
        if "running" in states and "queued" in states:
            break
        time.sleep(0.2)
    assert "running" in states and "queued" in states, states
    old = service_process(live_hub)
    old.send_signal(signal.SIGKILL)
    killed_at = time.time()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # dead (a zombie until the hub notices)
        try:
            if old.status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    # the killed service's validation process ends with it (no orphan)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and orphans(live_hub):
        time.sleep(0.2)
    assert not orphans(live_hub), describe(orphans(live_hub), killed_at)
    # the hub starts the service again; every job ends, the cut ones were re-run
    results = {j: wait_final(live_hub, tokens[w], j, timeout=400)[0] for j, w in jobs.items()}
    assert service_process(live_hub).pid != old.pid
    assert {r["etat"] for r in results.values()} == {"done"}, results
    rerun = [r for r in results.values() if r["relances"] == 1]
    assert rerun, "the jobs that were running were re-run"
    assert all("relancée automatiquement" in r["message"] for r in rerun)
    assert all(r["relances"] == 0 for r in results.values() if r not in rerun)
    for who in ("agent-a", "agent-b", "expert-r"):
        listing = requests.get(live_hub.url + REPRO + "api/analyses", headers=h(tokens[who]),
                               timeout=30).json()["analyses"]  # fmt: skip
        assert {j["id"] for j in listing} >= {j for j, w in jobs.items() if w == who}
