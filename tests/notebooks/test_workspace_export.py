"""A workspace exported as a proposal: the git bundle clones to a tree ``biblio run`` runs.

A member changes the notebook's ``horizon_days`` in the workspace and commits; the bundle is
cloned and ``biblio --root <clone> run --quick`` runs the clone's notebook and models: the
metrics carry the member's value, not the library's.
"""

import json
import subprocess
import sys
from pathlib import Path

from hub.workspaces import folder
from models.entries import REPO_ROOT

ENTRY = "canteen_attendance"


def _git(path, *args):
    subprocess.run(["git", *args], cwd=path, check=True, capture_output=True)


def test_exported_workspace_runs_with_biblio_run(tmp_path):
    folder.create_workspace(tmp_path, "alice", "ws-a", entry_id=ENTRY, repo_root=REPO_ROOT)
    ws = tmp_path / "alice" / "ws-a"
    notebook = ws / "notebooks" / f"{ENTRY}.ipynb"
    text = notebook.read_text(encoding="utf-8")
    assert text.count('"horizon_days = 14') == 1  # the parameters cell's literal
    notebook.write_text(text.replace('"horizon_days = 14', '"horizon_days = 7'), "utf-8")
    _git(ws, "commit", "-qam", "Horizon d'une semaine", "--author", folder.member_identity("bruno"))
    clone = tmp_path / "proposition"
    bundle = folder.export_bundle(ws, tmp_path / "ws-a.bundle")
    subprocess.run(["git", "clone", "-q", str(bundle), str(clone)], check=True)
    out = tmp_path / "sortie"
    biblio = Path(sys.executable).with_name("biblio")
    done = subprocess.run(
        [str(biblio), "--root", str(clone), "run", ENTRY, "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    metrics = (out / "metrics.json").read_text(encoding="utf-8")
    assert '"horizon_days": 7' in metrics
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["status"] == "success"
