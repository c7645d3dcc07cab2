"""« Essayer sur mes données » in docker mode: an analysis runs in its own container.

On the session's hub in docker mode (``docker_hub``), a collectivité's agent uploads the
canteen sample (its columns renamed, ``;`` separated) through the service's HTTP API and runs a
quick analysis. While it runs, its container (found by its ``JOB_LABEL``) is inspected: the
demonstrator image, no network (only the loopback interface inside), read-only root, the
upload read-only, the image's user. It ends ``done`` with ``metrics.json``, its container is
removed, the service's log says where it ran, and the service still reads and deletes the
results. A second analysis deleted while it runs takes its container with it. At a restart,
the containers a killed service left are removed and their jobs queued again (on the real
engine, the scheduler's recovery without a hub).
"""

import contextlib
import time

import pandas as pd
import pytest
import requests
from docker.errors import NotFound

from hub.config.settings import Settings
from hub.reproduce.backends import CONTAINER_JOB_DIR, JOB_LABEL
from hub.reproduce.runners import DockerRunner
from hub.reproduce.scheduler import Scheduler
from hub.reproduce.store import QUEUED, JobStore, new_id
from models.entries import entry_paths

REPRO = "/services/reproduce/"
ENTRY = "canteen_attendance"
FINAL = {"done", "failed", "interrupted"}
NO_NETWORK = "import socket; print(sorted(n for _, n in socket.if_nameindex()))"


@pytest.fixture(scope="module")
def agent(docker_hub):
    return docker_hub.create_user("agent-conteneur", ("collectivites",))


@pytest.fixture(scope="module")
def their_file(tmp_path_factory):
    frame = pd.read_csv(entry_paths(ENTRY).sample, dtype=str)
    frame = frame.rename(columns={"reel": "Couverts servis", "date": "Jour du service"})
    path = tmp_path_factory.mktemp("fichier") / "frequentation.csv"
    frame.to_csv(path, sep=";", index=False)
    return path


def api(hub, token, method, path, **kwargs):
    headers = {"Authorization": f"token {token}", **kwargs.pop("headers", {})}
    return requests.request(method, hub.url + REPRO + path, headers=headers, timeout=60, **kwargs)


def upload_and_submit(hub, token, path):
    with open(path, "rb") as f:
        r = api(hub, token, "POST", f"api/televersement/{ENTRY}", data=f,
                headers={"X-Nom-Fichier": "frequentation.csv"})  # fmt: skip
    assert r.status_code == 201, r.text
    body = {"column_map": {"Couverts servis": "reel", "Jour du service": "date"},
            "params": {"quick": "1"}}  # fmt: skip
    r = api(hub, token, "POST", f"api/fichiers/{r.json()['id']}/analyse", json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def containers_of(docker_client, job_id):
    return docker_client.containers.list(all=True, filters={"label": f"{JOB_LABEL}={job_id}"})


def wait_container(docker_client, job_id, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = containers_of(docker_client, job_id)
        if found and found[0].status == "running":
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no running container for job {job_id}")


def wait_gone(docker_client, job_id, timeout=20):
    deadline = time.monotonic() + timeout
    while containers_of(docker_client, job_id):
        assert time.monotonic() < deadline, f"the container of {job_id} is still there"
        time.sleep(0.2)


def test_an_analysis_runs_in_its_own_container_without_network(
    docker_hub, docker_client, image, agent, their_file
):
    t0 = time.monotonic()
    job_id = upload_and_submit(docker_hub, agent, their_file)
    container = wait_container(docker_client, job_id)
    info = container.attrs
    host = info["HostConfig"]
    assert info["Config"]["Image"] == docker_hub.extra_env["BIBLIO_DOCKER_IMAGE"]
    assert host["NetworkMode"] == "none" and host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"] and host["Memory"] > 0 and host["NanoCpus"] > 0
    mounts = {m["Destination"]: m for m in info["Mounts"]}
    assert len(mounts) == 2, "only the job's folder and the upload"
    assert mounts[CONTAINER_JOB_DIR]["RW"] is True
    (data,) = (m for d, m in mounts.items() if d != CONTAINER_JOB_DIR)
    assert data["RW"] is False, "the upload is read-only"
    # what the analysis sees: no network interface but the loopback; it is not root
    seen = container.exec_run(["python", "-c", NO_NETWORK], user=info["Config"]["User"])
    assert seen.exit_code == 0 and seen.output.decode().strip() == "['lo']", seen.output
    assert info["Config"]["User"] not in ("", "0", "root", "0:0")

    final = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        final = api(docker_hub, agent, "GET", f"api/analyses/{job_id}").json()
        if final["etat"] in FINAL:
            break
        time.sleep(0.5)
    assert final["etat"] == "done", final
    metrics = api(docker_hub, agent, "GET", f"analyse/{job_id}/telecharger/metrics.json")
    assert metrics.status_code == 200 and metrics.json()["entry_id"] == ENTRY
    assert metrics.json()["data"]["grade"] == final["note"]
    wait_gone(docker_client, job_id)
    log = docker_hub.log_text()
    assert f"Analyse {job_id} lancée (docker, conteneur {container.id[:12]})" in log
    (folder,) = docker_hub.state_dir.glob(f"reproduce/users/*/jobs/{job_id}")
    assert (folder / "journal.txt").is_file(), "the container's output is kept"
    uid = int(info["Config"]["User"].split(":")[0])
    assert (folder / "result.json").stat().st_uid == uid, "written by the container's user"
    assert (folder / "resultats" / "metrics.json").stat().st_mode & 0o002 == 0
    # the service still deletes what the container wrote
    assert api(docker_hub, agent, "DELETE", f"api/analyses/{job_id}").status_code == 204
    assert not folder.exists()
    print(f"analysis in a container: {time.monotonic() - t0:.1f} s")


def test_deleting_a_running_analysis_removes_its_container(
    docker_hub, docker_client, image, agent, their_file
):
    job_id = upload_and_submit(docker_hub, agent, their_file)
    wait_container(docker_client, job_id)
    assert api(docker_hub, agent, "DELETE", f"api/analyses/{job_id}").status_code == 204
    assert not containers_of(docker_client, job_id), "removed before the answer"
    assert api(docker_hub, agent, "GET", f"api/analyses/{job_id}").status_code == 404
    assert not list(docker_hub.state_dir.glob(f"reproduce/users/*/jobs/{job_id}"))


def test_restart_removes_the_containers_left_and_queues_their_jobs_again(
    tmp_path, docker_client, image, prefix
):
    """A service killed while its analysis ran left the container behind: the next start
    removes it and queues the job again once; another hub's container is not touched."""
    s = Settings.from_env(
        {"BIBLIO_STATE_DIR": str(tmp_path), "BIBLIO_SPAWNER": "docker",
         "BIBLIO_DOCKER_IMAGE": image.tags[0], "BIBLIO_DOCKER_VOLUME_PREFIX": prefix}
    )  # fmt: skip
    store = JobStore(f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    up_id = new_id()
    up = store.add_upload("ana", ENTRY, "f.csv", f"{up_id}.csv", 10, up_id)
    job = store.submit("ana", up, {}, {}, per_user=3)
    store.claim_next(limit=1)  # running when the service was killed

    def sleeper(name, job_id):
        return docker_client.containers.run(
            image.tags[0], ["sleep", "120"], name=name, labels={JOB_LABEL: job_id},
            network_mode="none", detach=True,
        )  # fmt: skip

    left = sleeper(f"{prefix}-analyse-{job.id}", job.id)
    other = sleeper(f"{prefix}-autre-hub-analyse-{job.id}", job.id)
    try:
        Scheduler(store, s, tmp_path / "reproduce", DockerRunner(s, docker_client)).recover()
        names = {c.name for c in containers_of(docker_client, job.id)}
        assert names == {other.name}, "the leftover is removed, the other hub's is not"
        again = store.job("ana", job.id)
        assert again.state == QUEUED and again.reruns == 1 and "relancée" in again.message
    finally:
        for c in (left, other):
            with contextlib.suppress(NotFound):
                c.remove(force=True)
        store.close()
