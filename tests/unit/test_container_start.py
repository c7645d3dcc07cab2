"""The image's entry point: seeding in the container (hub.spawners.seed), then the server."""

import subprocess
import sys

import pytest

from hub.config.settings import Settings
from hub.spawners import container_start, seed
from models.entries import REPO_ROOT, entry_ids


def _entry():
    ids = entry_ids()
    if not ids:
        pytest.fail("aucune entrée : aucun notebooks/*.ipynb dans le dépôt")
    return ids[0]


def _env(home, **extra):
    return {"BIBLIO_HOME": str(home), "BIBLIO_REPO_ROOT": str(REPO_ROOT), **extra}


def test_marker_name_is_hub_seeds():
    assert container_start.SEED_MARKER == seed.MARKER_NAME


def test_entry_from_spawner_variable_else_server_name():
    assert container_start.entry_for({"BIBLIO_ENTRY_ID": "a", "JUPYTERHUB_SERVER_NAME": "b"}) == "a"
    assert container_start.entry_for({"JUPYTERHUB_SERVER_NAME": "b"}) == "b"
    assert container_start.entry_for({}) is None
    assert container_start.entry_for({"JUPYTERHUB_SERVER_NAME": "ws-ouest"}) is None  # workspace


def test_first_start_seeds_relaunch_keeps_edits(tmp_path):
    entry_id = _entry()
    env = _env(tmp_path, BIBLIO_ENTRY_ID=entry_id)
    result = container_start.prepare(env)
    notebook = tmp_path / entry_id / f"{entry_id}.ipynb"
    assert f"{entry_id}.ipynb" in result.copied and notebook.is_file()
    notebook.write_text("modifié", encoding="utf-8")
    assert container_start.already_seeded(Settings.from_env(env), entry_id)
    assert container_start.prepare(env) is None
    assert notebook.read_text(encoding="utf-8") == "modifié"


def test_reset_token_backs_up_and_reseeds_once(tmp_path):
    entry_id = _entry()
    container_start.prepare(_env(tmp_path, BIBLIO_ENTRY_ID=entry_id))
    notebook = tmp_path / entry_id / f"{entry_id}.ipynb"
    notebook.write_text("modifié", encoding="utf-8")
    env = _env(tmp_path, BIBLIO_ENTRY_ID=entry_id, BIBLIO_RESET_TOKEN="t1")
    result = container_start.prepare(env)
    assert result.backup is not None and (result.backup / notebook.name).read_text() == "modifié"
    assert notebook.read_text(encoding="utf-8") != "modifié"
    notebook.write_text("encore", encoding="utf-8")
    container_start.prepare(env)  # same token again: no second reset
    assert notebook.read_text(encoding="utf-8") == "encore"


def test_main_seeds_then_execs_the_command(tmp_path):
    entry_id = _entry()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hub.spawners.container_start",
            sys.executable,
            "-c",
            "print('serveur')",
        ],
        env=_env(tmp_path, JUPYTERHUB_SERVER_NAME=entry_id, PATH="/usr/bin:/bin"),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "serveur"
    assert (tmp_path / entry_id / f"{entry_id}.ipynb").is_file()


def test_unknown_entry_still_starts_the_server_with_a_french_message(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hub.spawners.container_start",
            sys.executable,
            "-c",
            "print('serveur')",
        ],
        env=_env(tmp_path, BIBLIO_ENTRY_ID="pas_une_entree"),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 0 and done.stdout.strip() == "serveur"
    assert "préparation du démonstrateur impossible" in done.stderr
