"""Seeding a demonstrator's folder on a full disk or a read-only one: a French error, nothing
half-written, and the next launch (once there is room) seeds the whole folder.

Both faults are real file systems mounted over the user's folder: a 1 MB tmpfs (the entry's
data do not fit; its notebook does) and a read-only tmpfs. Mounting needs the privilege to
mount (root here); without it the tests are skipped with the reason.
"""

import contextlib
import subprocess
import uuid

import pytest
import requests

from hub.spawners.seed import MARKER_NAME, seed_sources
from tests.reliability.conftest import ENTRY_REPO
from tests.reliability.helpers import answers, fingerprint


@contextlib.contextmanager
def mounted(path, options):
    """A tmpfs mounted over ``path`` (created), unmounted at the end."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"mount impossible ici : {done.stderr.strip() or done.returncode}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def launch_failure(hub, user, entry, token) -> str:
    """Start ``user``'s server, which must fail; return what the hub told (API and progress)."""
    r = hub.api("POST", f"users/{user}/servers/{entry}", token=token)
    told = r.text
    if r.status_code == 202:  # the start went on in the background: read its progress
        progress = requests.get(
            f"{hub.url}/hub/api/users/{user}/servers/{entry}/progress",
            headers={"Authorization": f"token {token}"},
            timeout=60,
        )
        told += progress.text
    else:
        assert r.status_code >= 400, (r.status_code, r.text)
    state = hub.server_state(user, entry)
    assert not (state and state.get("ready")), state
    return told


def leftovers(home):
    return sorted(p.relative_to(home).as_posix() for p in home.rglob("*"))


@pytest.mark.parametrize(
    ("fault", "options", "words"),
    [
        ("plein", "size=1m", "Espace disque insuffisant"),
        ("lecture", "ro,size=1m", "lecture seule"),
    ],
)
def test_seeding_fault_leaves_nothing_half_written(culling_hub, entry, fault, options, words):
    hub = culling_hub
    user = f"{fault}-{uuid.uuid4().hex[:6]}"
    token = hub.create_user(user, ("experts",))
    home = hub.state_dir / "users" / user
    with mounted(home, options):
        told = launch_failure(hub, user, entry, token)
        assert words in told, told
        assert words in hub.log_text()
        assert leftovers(home) == [], "a half-seeded folder was left"
    # Room again: the next launch seeds every file, identical to its source.
    hub.start_server(user, entry, token=token)
    assert answers(hub, user, entry, token)
    sources = seed_sources(entry, ENTRY_REPO)
    seeded = fingerprint(home / entry)
    assert set(sources) | {MARKER_NAME} <= set(seeded)
    assert {rel: seeded[rel] for rel in sources} == {
        rel: fingerprint(src.parent)[src.name] for rel, src in sources.items()
    }  # the culler stops the server a few seconds later
