"""Seeding of a demonstrator's folder over the real entries: first launch, edits kept, reset."""

import asyncio
import datetime as dt
import json
from types import SimpleNamespace

import pytest
from tornado import web

from hub.config.settings import Settings
from hub.spawners import seed
from models.entries import UnknownEntryError, entry_ids, entry_paths

# BIBLIO_REPO_ROOT points the tests at another tree of entries (development only).
REPO = Settings.from_env().repo_root
ENTRIES = entry_ids(REPO) or [None]


def _entry(entry_id):
    if entry_id is None:
        pytest.fail(f"aucune entrée : aucun notebooks/*.ipynb dans {REPO}")
    return entry_id


@pytest.mark.parametrize("entry_id", ENTRIES)
def test_first_launch_copies_notebook_and_dataset(entry_id, tmp_path):
    entry_id = _entry(entry_id)
    result = seed.seed_workdir(entry_id, tmp_path, REPO)
    work = tmp_path / entry_id
    paths = entry_paths(entry_id, REPO)
    assert result.workdir == work and not result.already_seeded
    assert (work / f"{entry_id}.ipynb").read_bytes() == paths.notebook.read_bytes()
    assert paths.dataset_dir.is_dir(), f"datasets/{entry_id}/ manque"
    sample_files = [p for p in paths.dataset_dir.iterdir() if p.is_file()]
    assert sample_files
    for src in sample_files:
        copy = work / seed.DATA_DIRNAME / src.name
        assert copy.read_bytes() == src.read_bytes()
    assert sorted(result.copied) == sorted(seed.seed_sources(entry_id, REPO))
    assert json.loads((work / seed.MARKER_NAME).read_text())["entry_id"] == entry_id
    assert not list(work.rglob(".*.ipynb.*")), "no temporary file left behind"


@pytest.mark.parametrize("entry_id", ENTRIES)
def test_relaunch_keeps_edits_and_deletions(entry_id, tmp_path):
    entry_id = _entry(entry_id)
    seed.seed_workdir(entry_id, tmp_path, REPO)
    work = tmp_path / entry_id
    notebook = work / f"{entry_id}.ipynb"
    notebook.write_text('{"edited": true}', encoding="utf-8")
    victim = next((work / seed.DATA_DIRNAME).iterdir())
    victim.unlink()
    (work / "mes_notes.txt").write_text("à garder", encoding="utf-8")
    again = seed.seed_workdir(entry_id, tmp_path, REPO)
    assert again.already_seeded and again.copied == []
    assert notebook.read_text(encoding="utf-8") == '{"edited": true}'
    assert not victim.exists()
    assert (work / "mes_notes.txt").read_text(encoding="utf-8") == "à garder"


@pytest.mark.parametrize("entry_id", ENTRIES)
def test_reset_keeps_a_timestamped_backup(entry_id, tmp_path):
    entry_id = _entry(entry_id)
    seed.seed_workdir(entry_id, tmp_path, REPO)
    work = tmp_path / entry_id
    (work / f"{entry_id}.ipynb").write_text("modifié", encoding="utf-8")
    when = dt.datetime(2025, 3, 14, 15, 9, 26)
    result = seed.reset_workdir(entry_id, tmp_path, REPO, now=when)
    assert result.backup == tmp_path / seed.BACKUP_DIRNAME / f"{entry_id}-20250314-150926"
    assert (result.backup / f"{entry_id}.ipynb").read_text(encoding="utf-8") == "modifié"
    original = entry_paths(entry_id, REPO).notebook.read_bytes()
    assert (work / f"{entry_id}.ipynb").read_bytes() == original
    second = seed.reset_workdir(entry_id, tmp_path, REPO, now=when)
    assert second.backup == result.backup.with_name(result.backup.name + "-2")
    assert result.backup.exists(), "an older backup is never overwritten"


@pytest.mark.parametrize("entry_id", ENTRIES)
def test_reset_token_applies_once(entry_id, tmp_path):
    entry_id = _entry(entry_id)
    seed.seed_workdir(entry_id, tmp_path, REPO)
    notebook = tmp_path / entry_id / f"{entry_id}.ipynb"
    notebook.write_text("v1", encoding="utf-8")
    options = seed.parse_launch_options({"reset": ["1"], "image": ["evil"]})
    assert set(options) == {"reset"}
    first = seed.prepare_workdir(entry_id, tmp_path, REPO, options)
    assert first.backup is not None and notebook.read_text(encoding="utf-8") != "v1"
    notebook.write_text("v2", encoding="utf-8")
    # JupyterHub reuses the saved user_options on a later plain launch: no second reset
    again = seed.prepare_workdir(entry_id, tmp_path, REPO, options)
    assert again.backup is None and notebook.read_text(encoding="utf-8") == "v2"


def test_launch_options_ignore_everything_but_reset():
    assert seed.parse_launch_options({}) == {}
    assert seed.parse_launch_options({"reset": ["0"]}) == {}
    assert seed.parse_launch_options({"cmd": ["/bin/sh"]}) == {}
    a, b = (
        seed.parse_launch_options({"reset": ["1"]}),
        seed.parse_launch_options({"reset": ["oui"]}),
    )
    assert a["reset"] != b["reset"], "each reset request gets its own token"


def test_unknown_entry_is_refused_before_writing(tmp_path):
    with pytest.raises(UnknownEntryError):
        seed.seed_workdir("pas_une_entree", tmp_path, REPO)
    with pytest.raises(UnknownEntryError):
        seed.reset_workdir("pas_une_entree", tmp_path, REPO)
    with pytest.raises(UnknownEntryError):
        seed.seed_workdir("../etc", tmp_path, REPO)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["", "..", ".", "a/b"])
def test_user_home_refuses_escaping_names(tmp_path, name):
    with pytest.raises(ValueError):
        seed.user_home(tmp_path, name)


class _Log:
    def __init__(self):
        self.lines = []

    def info(self, *args):
        self.lines.append(args[0] % args[1:])


def _spawner(name, user="alice", options=None):
    return SimpleNamespace(
        name=name, user=SimpleNamespace(name=user), user_options=options or {}, log=_Log()
    )


@pytest.mark.parametrize("entry_id", ENTRIES)
def test_pre_spawn_hook_seeds_and_opens_the_notebook(entry_id, tmp_path):
    entry_id = _entry(entry_id)
    spawner = _spawner(entry_id)
    result = asyncio.run(seed.seed_for_spawner(spawner, users_dir=tmp_path, repo_root=REPO))
    assert result.workdir == tmp_path / "alice" / entry_id
    assert (result.workdir / f"{entry_id}.ipynb").is_file()
    assert spawner.default_url == f"/lab/workspaces/{entry_id}/tree/{entry_id}/{entry_id}.ipynb"
    assert "seed for alice/" in spawner.log.lines[0]


def test_pre_spawn_hook_refuses_unknown_server_in_french(tmp_path):
    with pytest.raises(web.HTTPError) as info:
        asyncio.run(seed.seed_for_spawner(_spawner("inconnu"), users_dir=tmp_path, repo_root=REPO))
    assert info.value.status_code == 404 and "Démonstrateur inconnu" in info.value.log_message
    assert list(tmp_path.iterdir()) == []


def test_pre_spawn_hook_leaves_default_server_alone(tmp_path):
    hook = seed.seed_for_spawner(_spawner(""), users_dir=tmp_path, repo_root=REPO)
    assert asyncio.run(hook) is None
    assert list(tmp_path.iterdir()) == []
