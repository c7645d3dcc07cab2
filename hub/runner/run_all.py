"""``biblio run --all``: every entry's notebook, in parallel processes, for CI.

Each entry runs in its own ``biblio run`` subprocess (``python -m hub.runner.cli``), at most as many
at once as there are cores, writing into ``<out>/<id>/``; its terminal output goes to
``<out>/<id>.log``. ``<out>`` defaults to ``test-artifacts/runs`` under the repository root.
A summary ``<out>/resume.json`` lists every entry's status and time. The whole run fails
when there is no entry or when any entry fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.runner import outputs
from models.entries import entry_ids, resolve_root

DEFAULT_ALL_OUT = Path("test-artifacts") / "runs"
SUMMARY_NAME = "resume.json"


@dataclass
class EntryOutcome:
    entry_id: str
    exit_code: int
    wall_s: float
    out_dir: Path
    log: Path

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def _run_one(
    entry_id: str, out: Path, quick: bool, root: Path, timeout: int, threads: int
) -> EntryOutcome:
    target = out / entry_id
    log = out / f"{entry_id}.log"
    cmd = [sys.executable, "-m", "hub.runner.cli", "--root", str(root), "run", entry_id]
    cmd += ["--out", str(target), "--timeout", str(timeout)]
    if quick:
        cmd.append("--quick")
    # Parallel kernels share the cores: cap each one's OpenMP/BLAS threads (unless set).
    env = {**os.environ}
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, str(threads))
    t0 = time.perf_counter()
    with open(log, "w", encoding="utf-8") as f:
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, check=False)
    return EntryOutcome(entry_id, proc.returncode, time.perf_counter() - t0, target, log)


def run_all(
    *,
    out: Path | str | None = None,
    quick: bool = True,
    root: Path | str | None = None,
    jobs: int | None = None,
    timeout: int = 600,
    ids: list[str] | None = None,
) -> tuple[int, list[EntryOutcome], str]:
    """Run every entry (or ``ids``); return (exit code, outcomes, French summary)."""
    base = resolve_root(root)
    ids = list(ids) if ids is not None else entry_ids(base)
    if not ids:
        return 1, [], f"Aucune entrée trouvée dans {base / 'notebooks'} : rien à exécuter."
    target = Path(out).resolve() if out is not None else base / DEFAULT_ALL_OUT
    target.mkdir(parents=True, exist_ok=True)
    workers = max(1, min(len(ids), jobs or os.cpu_count() or 1))
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        threads = max(1, (os.cpu_count() or 1) // workers)
        outcomes = list(pool.map(lambda i: _run_one(i, target, quick, base, timeout, threads), ids))
    wall = time.perf_counter() - t0
    failed = [o for o in outcomes if not o.ok]
    summary: dict[str, Any] = {
        "quick": quick,
        "parallel_processes": workers,
        "wall_s": round(wall, 3),
        "entries": {
            o.entry_id: {
                "exit_code": o.exit_code,
                "wall_s": round(o.wall_s, 3),
                "out_dir": str(o.out_dir),
                "log": str(o.log),
            }
            for o in outcomes
        },
    }
    outputs.write_json(target / SUMMARY_NAME, summary)
    lines = [
        f"  - {o.entry_id} : {'réussi' if o.ok else 'ÉCHEC'} ({o.wall_s:.1f} s) — "
        + (str(o.out_dir / "rapport.html") if o.ok else f"voir {o.log}")
        for o in outcomes
    ]
    head = (
        f"{len(outcomes) - len(failed)}/{len(outcomes)} entrées exécutées avec succès "
        f"en {wall:.1f} s ({workers} processus en parallèle) :"
    )
    text = "\n".join([head, *lines])
    if failed:
        details = []
        for o in failed:
            try:
                details.append(
                    f"--- {o.entry_id} ---\n" + o.log.read_text(encoding="utf-8")[-3000:]
                )
            except OSError:
                pass
        text += "\n" + "\n".join(details)
    return (1 if failed else 0), outcomes, text
