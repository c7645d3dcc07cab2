"""What runs in an analysis's own process (subprocess, container or Kubernetes pod).

``python -m hub.reproduce.worker run JOB_DIR --data FILE``: reads ``JOB_DIR/job.json``
(entry, column mapping, parameters, time limit), runs the entry's notebook with the runner
(``hub.runner.run.run_entry``, the same checks and outputs as ``biblio run``) into
``JOB_DIR/resultats``, writing ``JOB_DIR/progress.json`` at each cell (cell i of n and the
section title) and ``JOB_DIR/result.json`` at the end (status, French message, grade,
headline figure).

``python -m hub.reproduce.worker validate ENTRY FILE [--map-json J]``: the report of
``biblio validate`` (read, validate, partial acceptance, quality grade) as one JSON document
on stdout; the service runs it in a subprocess so that its own memory stays small.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from models.errors import BiblioError

RESULTS = "resultats"
JOB_FILE = "job.json"
PROGRESS_FILE = "progress.json"
RESULT_FILE = "result.json"


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` atomically (a reader never sees half a file)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def section_titles(cells: list[Any]) -> list[str]:
    """For each cell, the title of the last Markdown heading at or before it."""
    titles, current = [], ""
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            for line in str(cell.get("source", "")).splitlines():
                if line.startswith("#"):
                    current = line.lstrip("#").strip()
                    break
        titles.append(current)
    return titles


def install_progress(progress: Path) -> None:
    """Make papermill's default engine report each cell it starts into ``progress``."""
    from papermill.engines import NBClientEngine, papermill_engines

    class ProgressEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            cells = nb_man.nb.cells
            code = [i for i, c in enumerate(cells) if c.cell_type == "code"]
            titles = section_titles(cells)
            original = nb_man.cell_start

            def cell_start(cell, cell_index=None, **kw):
                if cell_index is not None and cell_index in code:
                    write_json(
                        progress,
                        {
                            "etape": "notebook",
                            "cellule": code.index(cell_index) + 1,
                            "cellules": len(code),
                            "section": titles[cell_index],
                            "temps": time.time(),
                        },
                    )
                return original(cell, cell_index, **kw)

            nb_man.cell_start = cell_start
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    papermill_engines.register(None, ProgressEngine)


def french_number(value: float, decimals: int = 1) -> str:
    """``1326`` → ``1 326``, ``11.05`` → ``11,1`` (French separators, narrow no-break space)."""
    return f"{value:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")


def _best(baselines: dict[str, Any], key: str, lowest: bool) -> tuple[str, dict] | None:
    found = [(name, (b or {}).get("metrics") or {}) for name, b in baselines.items()]
    found = [(name, m) for name, m in found if m.get(key) is not None]
    if not found:
        return None
    return (min if lowest else max)(found, key=lambda item: item[1][key])


def headline(metrics: dict[str, Any]) -> str:
    """One French sentence in the entry's own terms, the model against its best baseline:

    - a safety forecast (over-production and short days: ``canteen_attendance``) is judged on
      both, against the agents' forecast when the file has one (its mean error would mislead:
      the safety margin raises it on purpose);
    - a detector (recall and false alarms: ``bike_counters``) on what it finds and what it
      raises for nothing, against the simple rule that finds most;
    - any other model on its mean error, against the baseline with the lowest.
    """
    model = (metrics.get("model") or {}).get("metrics") or {}
    baselines = metrics.get("baselines") or {}
    if model.get("over_production_pct") is not None and model.get("short_days") is not None:
        text = (
            f"Surproduction {french_number(model['over_production_pct'])} % et "
            f"{french_number(model['short_days'], 0)} jours de manque (cantine-jours)"
        )
        agents = (baselines.get("prevision_agents") or {}).get("metrics")
        if agents and agents.get("over_production_pct") is not None:
            text += (
                f" (prévision des agents : {french_number(agents['over_production_pct'])} % et "
                f"{french_number(agents['short_days'], 0)})"
            )
        return text
    if model.get("recall") is not None and model.get("false_alarm_rate") is not None:
        text = (
            f"Anomalies retrouvées : {french_number(100 * model['recall'], 0)} %, fausses "
            f"alertes : {french_number(100 * model['false_alarm_rate'])} % des jours normaux"
        )
        best = _best(baselines, "recall", lowest=False)
        if best is not None:
            found = french_number(100 * best[1]["recall"], 0)
            text += f" (meilleure règle simple, {best[0]} : {found} % retrouvées)"
        return text
    if model.get("mae") is None:
        return ""
    text = f"Erreur moyenne du modèle : {french_number(model['mae'])}"
    best = _best(baselines, "mae", lowest=True)
    if best is not None:
        text += f" (meilleure référence, {best[0]} : {french_number(best[1]['mae'])})"
    return text


def summary(out: Path) -> dict[str, Any]:
    """Grade and headline of a finished run (from its ``metrics.json``)."""
    try:
        metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"grade": "", "headline": ""}
    return {
        "grade": str((metrics.get("data") or {}).get("grade") or ""),
        "headline": headline(metrics),
    }


def run_job(job_dir: Path, data: Path) -> int:
    """Run the analysis described by ``job_dir/job.json`` (see the module docstring)."""
    from hub.config.settings import Settings
    from hub.reproduce.backends import local_limits

    settings = Settings.from_env()
    if settings.spawner == "local":  # first, so that the notebook's kernel inherits them
        local_limits(settings)()
    from hub.runner.run import run_entry

    spec = json.loads((job_dir / JOB_FILE).read_text(encoding="utf-8"))
    progress = job_dir / PROGRESS_FILE
    write_json(progress, {"etape": "preparation", "temps": time.time()})
    install_progress(progress)
    params = dict(spec.get("params") or {})
    quick = bool(params.pop("quick", False))
    result = run_entry(
        spec["entry_id"],
        data=data,
        column_map=spec.get("column_map") or {},
        params=params,
        out=job_dir / RESULTS,
        quick=quick,
        timeout=int(spec.get("cell_timeout", 600)),
        keep_failed=False,
        progress_bar=False,
        settings=settings,
    )
    doc = {
        "status": result.status,
        "exit_code": result.exit_code,
        "message": "Analyse réussie."
        if result.ok
        else result.message.replace(str(job_dir / RESULTS), "vos résultats"),
        **(summary(job_dir / RESULTS) if result.ok else {"grade": "", "headline": ""}),
    }
    write_json(job_dir / RESULT_FILE, doc)
    return result.exit_code


def validate(entry_id: str, path: Path, column_map: dict[str, str], min_share) -> dict[str, Any]:
    """``biblio validate``'s report as a dict: usable, text, quality, set aside, grade.

    The same functions as ``biblio validate`` (the entry's read, validation and acceptance,
    then its quality report), reading the file once.
    """
    from hub.runner import entries
    from hub.runner.commands import quality_markdown, set_aside_sentence
    from hub.runner.run import acceptance_summary, min_share_option, usable
    from models.errors import DataValidationError
    from models.io import check_data_path

    out: dict[str, Any] = {"utilisable": False, "rapport": "", "qualite": "", "note": ""}
    try:
        path = check_data_path(path)
        module = entries.load_module(entry_id, None)
        options = min_share_option(module.load_with_report, min_share)
        try:
            data, report = module.load_with_report(str(path), column_map or None, **options)
        except DataValidationError as exc:  # refused: the report says why
            data, report = None, exc.report
    except BiblioError as exc:  # unreadable, or the entry cannot use it (French message)
        out["rapport"] = str(exc)
        return out
    out["acceptation"] = acceptance_summary(report)
    out["rapport"] = report.to_text()
    if data is None or not usable(report):
        return out
    out["utilisable"] = True
    has_acceptance = getattr(report, "acceptance", None) is not None
    out["ecartees"] = set_aside_sentence(report) if has_acceptance else ""
    quality = module.quality(data)
    out["qualite"] = quality_markdown(quality)
    out["note"] = str(getattr(quality, "grade", "") or "")
    return out


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent() -> bool:
    """Ask the kernel to kill this process when the thread that started it ends (Linux's
    ``PR_SET_PDEATHSIG``): no Python thread has to be scheduled for it. False elsewhere."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def follow_parent(parent: int | None = None) -> None:
    """Exit when the process that started this one (``parent``, by default the current
    parent) is gone (a killed service), even if it died before this process got here.

    The kernel does it (``die_with_parent``) once this is called; a thread that watches the
    parent's pid stays as the fallback where the kernel cannot.
    """
    import threading

    parent = parent or os.getppid()
    kernel = die_with_parent()
    if os.getppid() != parent:  # died before the request above: nobody will send the signal
        os._exit(0)
    if kernel:
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def warm(service_pid: int | None = None) -> None:
    """Initializer of the service's validation process: import the readers once, and end
    with the service (``service_pid``, given by the service itself)."""
    follow_parent(service_pid)
    from hub.shared import block_slow_optional_imports

    block_slow_optional_imports()
    import pandas  # noqa: F401

    from hub.runner import commands, run  # noqa: F401
    from models.entries import entry_ids

    for entry_id in entry_ids():
        __import__(f"models.{entry_id}")


def validate_safely(entry_id: str, path: str, column_map: dict[str, str], min_share) -> dict:
    """``validate`` for the service's process pool: never raises (French message)."""
    try:
        return validate(entry_id, Path(path), column_map, min_share)
    except Exception as exc:  # noqa: BLE001 - an unexpected failure is reported, not raised
        return {"utilisable": False, "rapport": f"La vérification a échoué : {exc}"}


def main(argv: list[str] | None = None) -> int:
    from hub.shared import block_slow_optional_imports

    block_slow_optional_imports()  # nbformat imports jsonschema (seconds on a busy machine)
    parser = argparse.ArgumentParser(prog="python -m hub.reproduce.worker")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("job_dir", type=Path)
    run.add_argument("--data", type=Path, required=True)
    val = sub.add_parser("validate")
    val.add_argument("entry_id")
    val.add_argument("file", type=Path)
    val.add_argument("--map-json", default="{}")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run_job(args.job_dir, args.data)
    from hub.config.settings import Settings

    try:
        doc = validate(
            args.entry_id,
            args.file,
            json.loads(args.map_json),
            Settings.from_env().min_usable_share,
        )
    except BiblioError as exc:
        doc = {"utilisable": False, "rapport": str(exc), "qualite": "", "note": ""}
    sys.stdout.write(json.dumps(doc, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
