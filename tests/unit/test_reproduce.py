"""Unit tests of « Essayer sur mes données » (hub.reproduce): mapping suggestions, the
parameters form, the job state machine and its recovery on a real SQLite file, limits, fair
order, retention, uploads (size limit, formats, spreadsheets), and the container and
Kubernetes specifications of an analysis."""

import csv
import json
import os
import resource
import subprocess
import sys
import time

import pandas as pd
import pytest

from hub.config.settings import Settings
from hub.reproduce import backends, fields, files, paramform, runners
from hub.reproduce.scheduler import Scheduler
from hub.reproduce.store import (
    DONE,
    FAILED,
    INTERRUPTED,
    QUEUED,
    RUNNING,
    JobStateError,
    JobStore,
    QueueFull,
    check_transition,
    new_id,
)
from hub.runner.params import ParameterError, notebook_parameters
from models.entries import REPO_ROOT, entry_paths

CANTEEN = "canteen_attendance"


# --- column mapping -------------------------------------------------------------------------


def canteen_fields():
    return fields.expected_fields(CANTEEN, REPO_ROOT)


def test_expected_fields_come_from_schema_sample_and_aliases():
    found = {f.name: f for f in canteen_fields()}
    assert list(found)[:3] == ["site_id", "site_type", "date"]
    assert found["date"].title == "Date du repas" and found["date"].required
    assert found["reel"].required, "REQUIRED_COLUMNS of the entry"
    assert not found["menu"].required
    assert found["site_id"].example == "C001"  # first row of the generated sample
    assert "frequentation" in found["reel"].aliases


def test_suggestions_use_aliases_then_remembered_choices():
    columns = ["Jour", "Nom cantine", "Fréquentation", "Prévu", "autre"]
    got = fields.suggest_mapping(canteen_fields(), columns)
    assert got["date"] == "Jour" and got["reel"] == "Fréquentation"
    assert got["site_nom"] == "Nom cantine" and got["prevision"] == "Prévu"
    assert "menu" not in got
    # what the user chose last time wins, and a column serves one field only
    got = fields.suggest_mapping(canteen_fields(), columns, {"autre": "reel"})
    assert got["reel"] == "autre" and "Fréquentation" not in got.values()


def test_form_choices_become_the_runner_column_map():
    f = canteen_fields()
    columns = ["Jour", "Couverts"]
    got = fields.column_map_from_form(f, columns, {"date": "Jour", "reel": "Couverts"})
    assert got == {"Jour": "date", "Couverts": "reel"}
    with pytest.raises(fields.MappingError, match="obligatoire"):
        fields.column_map_from_form(f, columns, {"date": "Jour"})
    with pytest.raises(fields.MappingError, match="une colonne ne sert qu'une fois"):
        fields.column_map_from_form(f, columns, {"date": "Jour", "reel": "Jour"})
    with pytest.raises(fields.MappingError, match="pas de colonne « Absente »"):
        fields.column_map_from_form(f, columns, {"date": "Absente", "reel": "Couverts"})


# --- parameters form ------------------------------------------------------------------------


def test_parameters_form_follows_the_parameters_cell():
    notebook = entry_paths(CANTEEN, REPO_ROOT).notebook
    form = {f.name: f for f in paramform.form_fields(notebook)}
    assert list(form)[0] == "quick" and form["quick"].input == "checkbox"
    assert not set(form) & {"data_path", "column_map", "output_dir", "min_share"}
    h = form["horizon_days"]
    assert (h.input, h.type_name, h.default, h.minimum, h.maximum) == ("number", "int", 14, 1, 60)
    assert h.label == "Jours d'anticipation" and h.bounds_text == "entre 1 et 60"
    params = notebook_parameters(notebook)
    fields_ = list(form.values())
    values = paramform.values_from_form(
        {"quick": "on", "horizon_days": "7", "jours_de_manque_par_mois": "1,5"}, fields_, params
    )
    assert values["quick"] is True and values["horizon_days"] == 7
    assert values["jours_de_manque_par_mois"] == 1.5
    assert values["utiliser_prevision_agents"] is False  # an unticked box
    assert values["test_months"] == 4  # empty: the default
    with pytest.raises(ParameterError, match="entre 1 et 60"):
        paramform.values_from_form({"horizon_days": "99"}, fields_, params)
    with pytest.raises(ParameterError, match="entier"):
        paramform.values_from_form({"horizon_days": "sept"}, fields_, params)


def test_parameters_form_offers_choices_and_hides_server_paths():
    form = {f.name: f for f in paramform.form_fields(entry_paths("air_quality").notebook)}
    assert form["pollutant"].input == "select" and "NO2" in form["pollutant"].choices
    bikes = {f.name for f in paramform.form_fields(entry_paths("bike_counters").notebook)}
    assert "weather_path" not in bikes and "labels_path" not in bikes and "seed" in bikes


# --- job store: state machine, limits, fairness, recovery ------------------------------------


@pytest.fixture
def store(tmp_path):
    s = JobStore(f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    yield s
    s.close()


def add_upload(store, user, entry=CANTEEN):
    return store.add_upload(user, entry, "données.csv", "x.csv", 10, new_id())


def test_state_machine_allows_only_the_designed_moves():
    check_transition(QUEUED, RUNNING)
    check_transition(RUNNING, DONE)
    check_transition(RUNNING, QUEUED)  # re-run after a restart
    for current, target in [
        (DONE, RUNNING),
        (QUEUED, DONE),
        (FAILED, QUEUED),
        (INTERRUPTED, RUNNING),
    ]:
        with pytest.raises(JobStateError):
            check_transition(current, target)


def test_job_goes_through_its_states(store):
    up = add_upload(store, "ana")
    job = store.submit("ana", up, {"Jour": "date"}, {"quick": True}, per_user=3)
    assert job.state == QUEUED and store.position(job.id) == 1
    claimed = store.claim_next(limit=1)
    assert claimed.id == job.id and claimed.attempts == 1
    assert store.claim_next(limit=1) is None
    done = store.set_state(job.id, DONE, grade="A", headline="x")
    assert done.ended and store.job("ana", job.id).grade == "A"
    with pytest.raises(JobStateError):
        store.set_state(job.id, RUNNING)
    assert store.job("bob", job.id) is None, "another user never sees it"
    assert store.job("ana", job.id).mapping() == {"Jour": "date"}


def test_limits_per_user_and_concurrent_jobs(store):
    ups = [add_upload(store, "ana") for _ in range(3)]
    for up in ups[:2]:
        store.submit("ana", up, {}, {}, per_user=2)
    with pytest.raises(QueueFull, match="limite : 2"):
        store.submit("ana", ups[2], {}, {}, per_user=2)
    store.submit("bob", add_upload(store, "bob"), {}, {}, per_user=2)  # others are not blocked
    assert store.claim_next(limit=2) and store.claim_next(limit=2)
    assert store.claim_next(limit=2) is None, "two running at most"


def test_queue_is_fair_between_users(store):
    # ana submits 4 jobs first, then bob and cleo one each: they do not wait for all of ana's
    for _ in range(4):
        store.submit("ana", add_upload(store, "ana"), {}, {}, per_user=10)
        time.sleep(0.002)
    for user in ("bob", "cleo"):
        store.submit(user, add_upload(store, user), {}, {}, per_user=10)
    order = [j.user for j in store.waiting()]
    assert order[:3] == ["ana", "bob", "cleo"] and order[3:] == ["ana"] * 3
    started = [store.claim_next(limit=10).user for _ in range(6)]
    assert started[:3] == ["ana", "bob", "cleo"]


def test_a_user_served_lately_waits_behind_others(store):
    first = store.submit("ana", add_upload(store, "ana"), {}, {}, per_user=5)
    store.claim_next(limit=5)
    store.set_state(first.id, DONE)  # ana's first job is over
    store.submit("ana", add_upload(store, "ana"), {}, {}, per_user=5)
    time.sleep(0.002)
    store.submit("bob", add_upload(store, "bob"), {}, {}, per_user=5)
    assert [j.user for j in store.waiting()] == ["bob", "ana"]


def test_recovery_requeues_a_running_job_once_on_a_real_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    first = JobStore(url)
    queued = first.submit("ana", add_upload(first, "ana"), {}, {}, per_user=5)
    running = first.submit("ana", add_upload(first, "ana"), {}, {}, per_user=5)
    first.claim_next(limit=1)  # the oldest one runs
    first.close()  # the service is killed here
    second = JobStore(url)
    rec = second.recover()
    assert rec.requeued == [queued.id] and not rec.interrupted
    job = second.job("ana", queued.id)
    assert job.state == QUEUED and job.reruns == 1 and "relancée" in job.message
    assert second.job("ana", running.id).state == QUEUED, "the waiting job still waits"
    # cut again while re-running: reported interrupted, not re-run forever
    assert second.claim_next(limit=1).id == queued.id
    second.close()
    third = JobStore(url)
    rec = third.recover()
    assert rec.interrupted == [queued.id]
    assert third.job("ana", queued.id).state == INTERRUPTED
    assert len(third.all_jobs()) == 2, "no job lost"
    third.close()


# --- scheduler: retention purge, local limits ------------------------------------------------


def settings_for(tmp_path, **env):
    base = {"BIBLIO_STATE_DIR": str(tmp_path / "state"), **env}
    return Settings.from_env(base)


def test_retention_purges_old_files_and_rows(tmp_path, store):
    s = settings_for(tmp_path, BIBLIO_REPRO_RETENTION_DAYS="30")
    base = tmp_path / "repro"
    old_up = add_upload(store, "ana")
    new_up = add_upload(store, "ana")
    up_file = files.uploads_dir(base, "ana") / old_up.stored
    up_file.parent.mkdir(parents=True)
    up_file.write_text("a,b\n")
    old = store.submit("ana", old_up, {}, {}, per_user=5)
    store.claim_next(limit=5)
    store.set_state(old.id, DONE)
    recent = store.submit("ana", new_up, {}, {}, per_user=5)
    folder = files.job_dir(base, "ana", old.id)
    (folder / "resultats").mkdir(parents=True)
    with store.session() as sess:  # 31 days ago
        from hub.reproduce.store import Job, Upload

        sess.get(Job, old.id).created -= 31 * 86400
        sess.get(Upload, old_up.id).created -= 31 * 86400
    sched = Scheduler(store, s, base)
    assert sched.purge() == (1, 1)
    assert not folder.exists() and not up_file.exists()
    assert store.job("ana", old.id) is None and store.upload("ana", old_up.id) is None
    assert store.job("ana", recent.id) is not None, "a recent job is kept"


def test_local_worker_limits_are_applied(tmp_path):
    s = settings_for(tmp_path, BIBLIO_REPRO_MEM_LIMIT="3G", BIBLIO_REPRO_TIME_LIMIT="100",
                     BIBLIO_REPRO_CPU_LIMIT="0.5")  # fmt: skip
    assert backends.cpu_seconds(s) == 50
    code = "import resource as r;print(r.getrlimit(r.RLIMIT_AS)[0], r.getrlimit(r.RLIMIT_CPU)[0])"
    out = subprocess.run(
        [sys.executable, "-c", code],
        preexec_fn=backends.local_limits(s),  # noqa: PLW1509
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == [str(3 << 30), "50"]
    assert resource.getrlimit(resource.RLIMIT_AS)[0] != 3 << 30, "the service itself is not limited"
    cmd = backends.local_command(tmp_path / "job", tmp_path / "u.csv")
    assert cmd[1:4] == ["-m", "hub.reproduce.worker", "run"]
    env = backends.worker_environment({"JUPYTERHUB_API_TOKEN": "secret", "PATH": "/bin"})
    assert "JUPYTERHUB_API_TOKEN" not in env and env["PATH"] == "/bin"


# --- uploads ---------------------------------------------------------------------------------


def test_upload_writer_refuses_past_the_limit_and_leaves_nothing(tmp_path):
    w = files.UploadWriter(tmp_path / "up", "a" * 32, limit=10)
    w.write(b"123456")
    w.write(b"789012")
    assert w.refused and not list((tmp_path / "up").iterdir())
    assert "limite est de 10 octets" in files.too_big_message(10)


def test_user_folders_never_come_from_names(tmp_path):
    assert files.user_key("../../etc") != files.user_key("etc")
    assert "/" not in files.user_key("a/b") and ".." not in files.user_key("..")
    with pytest.raises(files.UploadError):
        files.job_dir(tmp_path, "ana", "../x")


def sample_frame(rows=30):
    return pd.read_csv(entry_paths(CANTEEN).sample, dtype=str, nrows=rows)


@pytest.mark.parametrize("kind", ["xlsx", "ods", "gzip", "text"])
def test_formats_are_recognised_by_content_and_spreadsheets_become_csv(tmp_path, kind):
    frame = sample_frame().rename(columns={"reel": "Couverts", "date": "Jour"})
    part = tmp_path / f"{'b' * 32}.part"
    if kind == "xlsx":
        frame.assign(Couverts=frame["Couverts"].astype(int)).to_excel(
            part, index=False, engine="openpyxl"
        )
    elif kind == "ods":
        frame.to_excel(part, index=False, engine="odf")
    elif kind == "gzip":
        import gzip

        part.write_bytes(gzip.compress(frame.to_csv(index=False, sep=";").encode("cp1252")))
    else:
        part.write_text(frame.to_csv(index=False, sep=";"), encoding="utf-8")
    final, found = files.finish_upload(part)
    assert found == kind and not part.exists()
    assert final.name.endswith(".csv.gz" if kind == "gzip" else ".csv")
    columns, rows = files.preview(final, rows=5)
    assert columns == list(frame.columns) and len(rows) == 5
    assert rows[0][columns.index("Couverts")] == frame["Couverts"].iloc[0]
    assert rows[0][columns.index("site_id")] == "C001"


def test_unreadable_zip_and_old_excel_are_refused_in_french(tmp_path):
    import zipfile

    part = tmp_path / "c.part"
    with zipfile.ZipFile(part, "w") as z:
        z.writestr("autre.txt", "x")
    with pytest.raises(files.UploadError, match="ni un classeur Excel"):
        files.finish_upload(part)
    assert not part.exists()
    part.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    with pytest.raises(files.UploadError, match=r"\.xls"):
        files.finish_upload(part)


def test_preview_reads_only_the_head_of_a_big_file(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["date", "reel"])
        for i in range(200_000):
            w.writerow([f"2020-01-{1 + i % 28:02d}", i])
    assert path.stat().st_size > files.HEAD_BYTES * 4
    head = files.head_bytes(path)
    assert len(head) <= files.HEAD_BYTES and head.endswith(b"\n")
    assert files.preview(path)[0] == ["date", "reel"]


# --- container and Kubernetes specifications -------------------------------------------------


def test_docker_job_spec_isolates_the_analysis(tmp_path):
    s = settings_for(tmp_path, BIBLIO_REPRO_MEM_LIMIT="3G", BIBLIO_REPRO_CPU_LIMIT="1.5",
                     BIBLIO_IMAGE="biblio-ia-singleuser:test")  # fmt: skip
    job_dir, data = tmp_path / "jobs" / ("c" * 32), tmp_path / "uploads" / "d.csv"
    spec = backends.docker_job_spec(s, job_id="c" * 32, user="ana", job_dir=job_dir, data=data)
    assert spec["image"] == "biblio-ia-singleuser:test"
    assert spec["network_mode"] == "none" and spec["read_only"] is True
    assert spec["volumes"][str(data)]["mode"] == "ro"
    assert spec["volumes"][str(job_dir)] == {"bind": "/job", "mode": "rw"}
    assert len(spec["volumes"]) == 2, "nothing else of the host is mounted"
    assert spec["mem_limit"] == "3g" and spec["memswap_limit"] == "3g"
    assert spec["nano_cpus"] == 1_500_000_000 and spec["pids_limit"] > 0
    assert spec["cap_drop"] == ["ALL"] and "no-new-privileges" in spec["security_opt"]
    assert spec["command"][-3:] == ["/job", "--data", "/donnees/d.csv"]
    assert not any("TOKEN" in k for k in spec["environment"])
    # the worker inside leaves the limits to the engine (no local RLIMIT_AS of its own)
    assert spec["environment"]["BIBLIO_SPAWNER"] == "docker"


def test_runner_follows_the_spawner_mode(tmp_path):
    local = runners.runner_for(settings_for(tmp_path))
    assert isinstance(local, runners.LocalRunner) and local.kind == "local"
    s = settings_for(tmp_path, BIBLIO_SPAWNER="docker", BIBLIO_DOCKER_VOLUME_PREFIX="essai")
    docker = runners.runner_for(s)
    assert isinstance(docker, runners.DockerRunner) and docker.kind == "docker"
    assert docker._client is None, "no engine contacted before the first analysis"
    assert docker.name_prefix() == "essai-analyse-"
    spec = backends.docker_job_spec(s, job_id="f" * 32, user="ana", job_dir=tmp_path, data=tmp_path)
    assert spec["name"].startswith(docker.name_prefix()), "leftovers are found by this prefix"
    assert Scheduler(None, s, tmp_path).runner.kind == "docker"
    assert Scheduler(None, settings_for(tmp_path), tmp_path).runner.kind == "local"


def test_container_user_gets_the_job_folder_only(tmp_path):
    folder, data = tmp_path / "job", tmp_path / "u.csv"
    folder.mkdir()
    (folder / "job.json").write_text("{}")
    data.write_text("a\n")
    data.chmod(0o600)
    me = os.geteuid()
    # a service running as another user: the container runs as it, nothing changes hands
    assert runners.container_user(folder, data, euid=4242) == f"4242:{os.getegid()}"
    assert folder.stat().st_uid == me and data.stat().st_mode & 0o777 == 0o600
    if me != 0:
        return
    # as root: the image's user owns the job folder (0700), its group reads the upload
    assert runners.container_user(folder, data) == "1000:1000"
    assert {p.stat().st_uid for p in (folder, folder / "job.json")} == {1000}
    assert folder.stat().st_mode & 0o777 == 0o700
    assert (data.stat().st_uid, data.stat().st_gid) == (0, 1000)
    assert data.stat().st_mode & 0o777 == 0o640, "readable by the container, by no one else"


def test_kubernetes_job_manifest(tmp_path):
    s = settings_for(tmp_path, BIBLIO_REPRO_MEM_LIMIT="2G", BIBLIO_REPRO_TIME_LIMIT="900")
    m = backends.kubernetes_job_manifest(
        s, job_id="e" * 32, user_key="ana-1", claim="biblio-reproduce",
        job_path="users/ana-1/jobs/" + "e" * 32, data_path="users/ana-1/uploads/f.csv",
    )  # fmt: skip
    assert (m["apiVersion"], m["kind"]) == ("batch/v1", "Job")
    spec = m["spec"]
    assert spec["backoffLimit"] == 0 and spec["activeDeadlineSeconds"] == 900
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["automountServiceAccountToken"] is False
    (c,) = pod["containers"]
    assert c["resources"]["limits"] == {"memory": "2Gi", "cpu": "1.0"}
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {v["mountPath"]: v for v in c["volumeMounts"]}
    assert mounts["/donnees/f.csv"]["readOnly"] is True
    assert mounts["/job"]["subPath"].endswith("e" * 32) and not mounts["/job"].get("readOnly")
    net = backends.kubernetes_network_policy()
    assert net["spec"]["egress"] == [] and net["spec"]["podSelector"]["matchLabels"] == {
        "app": backends.K8S_APP
    }
    assert m["spec"]["template"]["metadata"]["labels"]["app"] == backends.K8S_APP
    json.dumps(m)  # a plain document


def test_settings_of_the_service(tmp_path):
    s = settings_for(tmp_path)
    assert s.repro_max_upload == 50 << 20 and s.repro_retention_days == 30
    assert s.repro_max_jobs == (os.cpu_count() or 1)
    assert s.repro_db_url == f"sqlite:///{tmp_path / 'state' / 'reproduce' / 'jobs.sqlite'}"
    assert settings_for(tmp_path, BIBLIO_REPRO_MAX_UPLOAD="2M").repro_max_upload == 2 << 20
    from hub.config.settings import SettingsError

    with pytest.raises(SettingsError, match="BIBLIO_REPRO_MAX_UPLOAD"):
        settings_for(tmp_path, BIBLIO_REPRO_MAX_UPLOAD="beaucoup")


def test_hub_configuration_declares_the_service(tmp_path):
    from traitlets.config import Config

    from hub.config.configure import configure

    c = Config()
    configure(c, {"BIBLIO_STATE_DIR": str(tmp_path / "state"), "BIBLIO_REPRO_PORT": "18555"})
    svc = next(s for s in c.JupyterHub.services if s["name"] == "reproduce")
    assert svc["url"] == "http://127.0.0.1:18555"
    assert svc["command"][1:3] == ["-m", "hub.reproduce"]
    assert svc["environment"]["BIBLIO_REPRO_DIR"] == str(tmp_path / "state" / "reproduce")
    assert "custom:biblio:reproduire" in svc["oauth_client_allowed_scopes"]
    user = next(r for r in c.JupyterHub.load_roles if r["name"] == "user")
    assert "access:services!service=reproduce" in user["scopes"]
    assert "custom:biblio:reproduire" in c.JupyterHub.custom_scopes
    assert Settings.from_env(svc["environment"]).repro_dir == tmp_path / "state" / "reproduce"


# --- scheduler: a real worker past its time limit, an orphan worker after a crash -------------


def test_scheduler_stops_a_job_past_its_time_limit(tmp_path, store):
    import asyncio

    s = settings_for(tmp_path, BIBLIO_REPRO_TIME_LIMIT="2")
    base = tmp_path / "repro"
    up = add_upload(store, "ana")
    data = files.uploads_dir(base, "ana") / up.stored
    data.parent.mkdir(parents=True)
    data.write_bytes(entry_paths(CANTEEN).sample.read_bytes())
    job = store.submit("ana", up, {}, {"quick": False}, per_user=3)

    async def scenario():
        sched = Scheduler(store, s, base)
        await sched.start()
        t0 = time.monotonic()
        while store.job("ana", job.id).state not in (DONE, FAILED):
            await asyncio.sleep(0.1)
            assert time.monotonic() - t0 < 30
        await sched.stop()
        return time.monotonic() - t0

    took = asyncio.run(scenario())
    final = store.job("ana", job.id)
    assert final.state == FAILED and "durée maximale autorisée (2 s)" in final.message
    assert took < 10
    pid = final.pid or 0
    assert not pid, "no worker left recorded"


def test_recovery_stops_the_worker_left_by_a_killed_service(tmp_path, store):
    s = settings_for(tmp_path)
    job = store.submit("ana", add_upload(store, "ana"), {}, {}, per_user=3)
    store.claim_next(limit=1)
    orphan = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "hub.reproduce.worker", job.id],
        start_new_session=True,
    )
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with store.session() as sess:
            from hub.reproduce.store import Job

            sess.get(Job, job.id).pid = orphan.pid
        Scheduler(store, s, tmp_path / "repro").recover()
        assert orphan.wait(5) == -9, "the leftover worker is stopped"
        assert store.job("ana", job.id).state == QUEUED
        # a pid that is not this job's worker is never touched
        with store.session() as sess:
            row = sess.get(Job, job.id)
            row.state, row.pid = RUNNING, bystander.pid
        Scheduler(store, s, tmp_path / "repro").recover()
        assert bystander.poll() is None
    finally:
        for proc in (orphan, bystander):
            if proc.poll() is None:
                proc.kill()
                proc.wait()


# --- validation: the same report as biblio validate -------------------------------------------


@pytest.mark.parametrize("case", ["bad_rows", "refused"])
def test_validation_report_is_the_one_of_biblio_validate(tmp_path, case):
    from hub.reproduce.worker import validate

    frame = sample_frame(rows=6000)  # 200 service days of 30 canteens
    if case == "bad_rows":
        frame.loc[[5, 17, 40], "reel"] = "beaucoup"
    else:
        frame = frame.drop(columns=["date"])
    path = tmp_path / "export.csv"
    frame.to_csv(path, sep=";", index=False)
    got = validate(CANTEEN, path, {}, 0.9)
    cli = subprocess.run(
        [sys.executable, "-m", "hub.runner.cli", "validate", CANTEEN, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if case == "bad_rows":
        assert cli.returncode == 0 and got["utilisable"]
        assert got["rapport"] in cli.stdout and got["qualite"] in cli.stdout
        assert (
            got["ecartees"]
            == "3 lignes seraient écartées par biblio run (listées dans lignes_ecartees.csv)."
        )
        assert got["ecartees"] in cli.stdout and got["note"] in "ABCDE"
    else:
        assert cli.returncode == 2 and not got["utilisable"]
        assert got["rapport"] in cli.stderr and "date" in got["rapport"]


def test_service_follows_cookie_options_and_subdomains(tmp_path):
    from hub.reproduce.config import reproduce_service, reproduce_url

    s = settings_for(tmp_path)
    svc = reproduce_service(s)
    assert json.loads(svc["environment"]["JUPYTERHUB_COOKIE_OPTIONS"]) == {"samesite": "Lax"}
    assert reproduce_url(s) == "/services/reproduce/"
    sub = settings_for(tmp_path, BIBLIO_SUBDOMAIN_HOST="http://biblio.test:8000",
                       BIBLIO_SPAWNER="docker")  # fmt: skip
    assert reproduce_url(sub) == "http://reproduce--service.biblio.test:8000/services/reproduce/"
    cmd = reproduce_service(sub)["command"]
    assert cmd[cmd.index("--hub-origin") + 1] == "http://biblio.test:8000"
    # in docker mode the service reaches the hub's engine (a hub-managed service gets only
    # the environment it is given); not in local mode
    from traitlets.config import Config

    from hub.config.configure import configure

    env = {"BIBLIO_STATE_DIR": str(tmp_path / "state"), "DOCKER_HOST": "unix:///x/docker.sock"}
    for mode, expected in (("docker", "unix:///x/docker.sock"), ("local", None)):
        c = Config()
        configure(c, {**env, "BIBLIO_SPAWNER": mode})
        svc = next(s for s in c.JupyterHub.services if s["name"] == "reproduce")
        assert svc["environment"].get("DOCKER_HOST") == expected
    assert cmd[cmd.index("--catalog-url") + 1].startswith("http://catalog--service.biblio.test")


CHILD = (
    "import os, time\n"
    "from hub.reproduce.worker import follow_parent\n"
    "follow_parent()\n"
    "print(os.getpid(), flush=True)\n"
    "time.sleep(60)\n"
)
PARENT = (
    "import subprocess, sys, time\n"
    "subprocess.Popen([sys.executable, '-c', sys.argv[1]])\n"
    "time.sleep(60)\n"
)


def alive(pid: int) -> bool:
    """``pid`` runs (a zombie waiting for init to reap it counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return not f.read().rsplit(") ", 1)[1].startswith("Z")
    except FileNotFoundError:
        return False


def test_the_validation_process_ends_with_the_service_that_started_it():
    """A service killed without goodbye leaves no validation process behind."""
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, CHILD], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        child = int(parent.stdout.readline())
        os.kill(parent.pid, 9)
        parent.wait(10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and alive(child):
            time.sleep(0.02)
        assert not alive(child), "the validation process outlived its service"
    finally:
        parent.kill()


def test_the_headline_speaks_each_entry_s_language():
    """The figure shown in « Mes analyses »: a safety forecast on over-production and short days
    (never its mean error, raised on purpose by the margin), a detector on what it finds, any
    other model on its mean error; each against its baseline."""
    from hub.reproduce.worker import headline

    def doc(model, **baselines):
        return {
            "model": {"metrics": model},
            "baselines": {k: {"metrics": v} for k, v in baselines.items()},
        }

    canteen = doc(
        {"mae": 24.7, "over_production_pct": 11.05, "short_days": 1326},
        prevision_agents={"mae": 26.3, "over_production_pct": 9.5, "short_days": 2511},
        moyenne_8_semaines={"mae": 19.4, "over_production_pct": 5.7, "short_days": 3357},
    )
    assert headline(canteen) == (
        "Surproduction 11,1 % et 1\u202f326 jours de manque (cantine-jours) "
        "(prévision des agents : 9,5 % et 2\u202f511)"
    )
    bikes = doc(
        {"recall": 0.9, "false_alarm_rate": 0.0123, "precision": 0.8},
        regle_3_jours_a_zero={"recall": 0.2, "false_alarm_rate": 0.0},
        isolation_forest={"recall": 0.36, "false_alarm_rate": 0.05},
    )
    assert headline(bikes) == (
        "Anomalies retrouvées : 90 %, fausses alertes : 1,2 % des jours normaux "
        "(meilleure règle simple, isolation_forest : 36 % retrouvées)"
    )
    air = doc({"mae": 4.23}, persistance={"mae": 4.78}, climatologie_mensuelle={"mae": 9.9})
    assert (
        headline(air) == "Erreur moyenne du modèle : 4,2 (meilleure référence, persistance : 4,8)"
    )
    assert headline(doc({})) == ""
