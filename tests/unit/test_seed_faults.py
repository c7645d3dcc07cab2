"""Seeding that fails half-way (a full disk, simulated at the third copy): nothing is left
half-written, the French message says why, a reset puts the previous folder back.
The real faults (a full tmpfs, a read-only one) are in tests/reliability/test_seeding.py."""

import errno
import shutil

import pytest

from hub.config.settings import Settings
from hub.spawners import seed
from models.entries import entry_ids

REPO = Settings.from_env().repo_root
ENTRY = (entry_ids(REPO) or [None])[0]


@pytest.fixture
def disk_full_at_third_copy(monkeypatch):
    real, calls = shutil.copyfile, []

    def copyfile(src, dest, **kwargs):
        calls.append(dest)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dest, **kwargs)

    monkeypatch.setattr(seed.shutil, "copyfile", copyfile)
    return calls


def test_a_failed_first_seeding_leaves_no_folder(tmp_path, disk_full_at_third_copy):
    assert len(seed.seed_sources(ENTRY, REPO)) >= 3
    with pytest.raises(seed.SeedError) as caught:
        seed.seed_workdir(ENTRY, tmp_path, REPO)
    assert "Espace disque insuffisant" in str(caught.value)
    assert caught.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []  # neither the folder nor the staging folder


def test_a_failed_seeding_keeps_the_users_files(tmp_path, disk_full_at_third_copy):
    work = tmp_path / ENTRY
    work.mkdir()
    (work / "mes_notes.txt").write_text("à moi", encoding="utf-8")
    with pytest.raises(seed.SeedError):
        seed.seed_workdir(ENTRY, tmp_path, REPO)
    assert sorted(p.name for p in tmp_path.iterdir()) == [ENTRY]
    assert [p.name for p in work.iterdir()] == ["mes_notes.txt"]
    assert (work / "mes_notes.txt").read_text(encoding="utf-8") == "à moi"


def test_a_failed_reset_puts_the_previous_folder_back(tmp_path, monkeypatch):
    seed.seed_workdir(ENTRY, tmp_path, REPO)
    notes = tmp_path / ENTRY / "notes.txt"
    notes.write_text("gardé", encoding="utf-8")

    def no_room(src, dest, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(seed.shutil, "copyfile", no_room)
    with pytest.raises(seed.SeedError):
        seed.reset_workdir(ENTRY, tmp_path, REPO, token="abc")
    assert notes.read_text(encoding="utf-8") == "gardé"
    assert seed.read_marker(tmp_path / ENTRY)["entry_id"] == ENTRY
    assert not list((tmp_path / seed.BACKUP_DIRNAME).iterdir())


def test_messages_by_cause():
    read_only = seed.seed_error(OSError(errno.EROFS, "Read-only"), "x", "/h")
    assert "lecture seule" in str(read_only)
    other = seed.seed_error(OSError(errno.EIO, "I/O error"), "x", "/h")
    assert "Impossible de préparer" in str(other) and "I/O error" in str(other)
