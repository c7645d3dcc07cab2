"""Run one entry's notebook on the sample or on a user's file: ``run_entry``.

``run_entry`` reads like papermill's ``execute_notebook``, four named steps:

1. ``prepare``: check the parameters against the notebook and the user's file with the
   entry's package (a refusal stops here with a French report, exit code 2, nothing written),
   then make a temporary folder beside the target;
2. ``execute``: papermill in that folder (kernel ``python3``, working directory = the folder,
   timeout per cell, a progress bar on a terminal), measuring the footprint, then check that
   ``metrics.json`` was written;
3. ``record``: the French HTML report and ``run.json``;
4. ``publish``: move the folder to its target; a failed run is set aside instead (or removed)
   and its French message names the cell and the exception (exit code 1).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import inspect
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import nbformat

from hub.config.settings import Settings
from hub.runner import entries, outputs
from hub.runner.footprint import Footprint
from hub.runner.params import (
    ParameterError,
    check_map_targets,
    check_parameters,
    notebook_parameters,
    parse_param_args,
)
from models.contract import METRICS_NAME
from models.entries import require_entry, resolve_root
from models.errors import BiblioError
from models.io import check_data_path

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
DEFAULT_TIMEOUT_S = 600
REPORT_NAME = "rapport.html"
REQUIRED_PARAMETERS = ("data_path", "column_map", "quick", "output_dir")
DATA_ERRORS = {"DataReadError", "DataValidationError"}


@dataclass
class RunResult:
    entry_id: str
    status: str  # "success", "failed" (notebook error) or "invalid" (refused before running)
    exit_code: int
    message: str
    out_dir: Path | None = None
    failed_dir: Path | None = None
    run: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for dist in ("biblio-ia", "pandas", "numpy", "scikit-learn", "papermill", "nbconvert"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "absent"
    return out


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


@contextlib.contextmanager
def _kernel_env(root: Path) -> Iterator[None]:
    """Let the kernel import the root's ``models`` package (kernels inherit the environment)."""
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(root), *([old] if old else [])])
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip():
            return line.strip()[:120]
    return "(cellule vide)"


def original_cell_number(
    notebook: Path, source: str, nb: nbformat.NotebookNode | None = None
) -> int | None:
    """1-based number of the cell with ``source`` in the committed notebook."""
    nb = nb if nb is not None else nbformat.read(str(notebook), as_version=4)
    for i, cell in enumerate(nb.cells, start=1):
        if cell.cell_type == "code" and cell.source == source:
            return i
    return None


def cell_durations(executed: Path, notebook: Path) -> list[dict[str, Any]]:
    """Duration of each executed code cell (papermill's metadata), numbered as in the notebook."""
    try:
        nb = nbformat.read(str(executed), as_version=4)
        original = nbformat.read(str(notebook), as_version=4)
    except Exception:  # no executed notebook (the kernel did not start): no durations
        return []
    out = []
    for cell in nb.cells:
        duration = cell.get("metadata", {}).get("papermill", {}).get("duration")
        if cell.cell_type != "code" or duration is None:
            continue
        if "injected-parameters" in cell.metadata.get("tags", []):
            continue
        out.append(
            {
                "cell_number": original_cell_number(notebook, cell.source, original),
                "first_line": first_line(cell.source),
                "duration_s": round(float(duration), 3),
            }
        )
    return out


def failure_message(exc: BaseException, notebook: Path) -> tuple[str, dict[str, Any]]:
    """French message naming the failing cell and the exception; and its JSON form."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        number = original_cell_number(notebook, exc.source)
        where = f"la cellule n° {number}" if number else f"la cellule d'index {exc.cell_index}"
        line = first_line(exc.source)
        msg = (
            f"Échec de l'exécution du notebook dans {where} (« {line} ») :\n"
            f"  {exc.ename} : {exc.evalue}"
        )
        return msg, {
            "cell_number": number,
            "cell_index_executed": exc.cell_index,
            "cell_first_line": line,
            "exception": exc.ename,
            "message": str(exc.evalue),
        }
    if isinstance(exc, CellTimeoutError):
        msg = f"Échec : une cellule a dépassé le délai d'exécution autorisé ({exc})."
        return msg, {"exception": "CellTimeoutError", "message": str(exc)}
    if isinstance(exc, DeadKernelError):
        msg = "Échec : le noyau Python s'est arrêté pendant l'exécution (mémoire insuffisante ?)."
        return msg, {"exception": "DeadKernelError", "message": str(exc)}
    msg = f"Échec de l'exécution du notebook : {type(exc).__name__} : {exc}"
    return msg, {"exception": type(exc).__name__, "message": str(exc)}


def min_share_option(function: Any, min_share: float | None) -> dict[str, Any]:
    """``{"min_share": min_share}`` when the entry's ``function`` takes it, else nothing (an
    entry without partial acceptance)."""
    try:
        accepts = "min_share" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        accepts = False
    return {"min_share": min_share} if accepts else {}


def usable(report: Any) -> bool:
    """The file can be used: ``report.usable`` after partial acceptance
    (``models.acceptance``), else (an entry without it) no problem at all."""
    if getattr(report, "acceptance", None) is not None:
        return bool(report.usable)
    return bool(report.ok)


def check_data(
    entry_id: str,
    data: Path,
    column_map: dict[str, str],
    root: Path | str | None = None,
    *,
    min_share: float | None = None,
) -> tuple[bool, str]:
    """Read, validate and accept the user's file with the entry's package: (usable, French
    report); rows set aside do not make it unusable, a refusal does."""
    ok, text, _ = check_report(entry_id, data, column_map, root, min_share=min_share)
    return ok, text


def check_report(
    entry_id: str,
    data: Path,
    column_map: dict[str, str],
    root: Path | str | None = None,
    *,
    min_share: float | None = None,
) -> tuple[bool, str, Any]:
    """``check_data`` with the entry's report itself (``None`` when the file was not read)."""
    try:
        data = check_data_path(data)
    except BiblioError as exc:
        return False, str(exc), None
    try:
        module = entries.load_module(entry_id, root)
    except BiblioError:
        raise
    except Exception as exc:  # a broken entry package: say so, without a traceback
        raise BiblioError(
            f"Le paquet de l'entrée « {entry_id} » ne peut pas être importé : "
            f"{type(exc).__name__} : {exc}"
        ) from exc
    options = min_share_option(module.validate_file, min_share)
    try:
        report = module.validate_file(str(data), column_map or None, **options)
    except BiblioError as exc:
        return False, str(exc), None
    return usable(report), report.to_text(), report


def default_out(entry_id: str) -> Path:
    return Path("resultats") / entry_id


@dataclass
class PreparedRun:
    """What ``prepare`` checked and set up; ``record`` becomes ``run.json``."""

    entry_id: str
    root: Path
    notebook: Path
    parameters: dict[str, Any]  # what papermill injects
    target: Path  # the output folder the user asked for
    tmp: Path  # the temporary folder beside it, where the run writes
    timeout: int
    record: dict[str, Any]
    t0: float  # time.perf_counter() when the run began

    @property
    def executed(self) -> Path:
        return self.tmp / f"{self.entry_id}.ipynb"


def user_parameters(
    notebook: Path, param_args: list[str] | None, params: dict[str, Any] | None
) -> dict[str, Any]:
    """The user's ``--param`` values (and ``params``), checked against the notebook's own."""
    nb_params = notebook_parameters(notebook)
    missing = [p for p in REQUIRED_PARAMETERS if p not in nb_params]
    if missing:
        raise ParameterError(
            f"Le notebook {notebook.name} ne déclare pas les paramètres "
            f"obligatoires : {', '.join(missing)}."
        )
    values = parse_param_args(param_args, nb_params)
    if params:
        check_parameters(params, nb_params)
        values.update(params)
    return values


def input_file(
    entry_id: str,
    data: Path | str | None,
    column_map: dict[str, str],
    root: Path,
    min_share: float | None = None,
) -> dict[str, Any]:
    """Check the user's file (if any) with the entry; what ``run.json`` says about it."""
    if data is None:
        if column_map:
            raise ParameterError("L'option --map s'utilise avec --data (votre fichier).")
        return {"path": None, "sha256": None, "validation": None}
    if column_map:
        check_map_targets(column_map, entries.known_columns(entry_id, root), entry_id)
    data_path = check_data_path(data)
    ok, text, report = check_report(entry_id, data_path, column_map, root, min_share=min_share)
    if not ok:
        raise BiblioError(
            f"Le fichier ne peut pas être utilisé par l'entrée « {entry_id} » :\n{text}"
        )
    return {
        "path": str(data_path),
        "sha256": sha256(data_path),
        "bytes": data_path.stat().st_size,
        "validation": text,
        "acceptance": acceptance_summary(report),
    }


def acceptance_summary(report: Any) -> dict[str, Any] | None:
    """Rows read / kept / set aside of the user's file (``models.acceptance``), if known."""
    acceptance = getattr(report, "acceptance", None)
    return acceptance.summary() if hasattr(acceptance, "summary") else None


def prepare(
    entry_id: str,
    *,
    data: Path | str | None = None,
    column_map: dict[str, str] | None = None,
    param_args: list[str] | None = None,
    params: dict[str, Any] | None = None,
    out: Path | str | None = None,
    quick: bool = False,
    root: Path | str | None = None,
    timeout: int = DEFAULT_TIMEOUT_S,
    min_share: float | None = None,
) -> PreparedRun:
    """Check the entry, the parameters and the user's file, then make the temporary folder.

    ``min_share``: least share of usable rows of the user's file (``None`` = the entry's
    default, ``models.acceptance.DEFAULT_MIN_SHARE``); given to the notebook when it declares
    a ``min_share`` parameter. Raises ``BiblioError`` (French) on anything refused; nothing
    is written then.
    """
    t0, started = time.perf_counter(), _now()
    base = resolve_root(root)
    paths = require_entry(entry_id, base)
    user_params = user_parameters(paths.notebook, param_args, params)
    if "quick" in user_params:
        quick = bool(user_params.pop("quick"))
    column_map = dict(column_map or {})
    input_info = input_file(entry_id, data, column_map, base, min_share)
    target = Path(out if out is not None else default_out(entry_id)).resolve()
    tmp = outputs.prepare(target)
    parameters = {
        "data_path": input_info["path"],
        "column_map": column_map,
        "quick": bool(quick),
        "output_dir": ".",
        **user_params,
    }
    if min_share is not None and "min_share" in notebook_parameters(paths.notebook):
        parameters["min_share"] = float(min_share)
    record = {
        "entry_id": entry_id,
        "title": entries.entry_title(entry_id, base, cheap=True),
        "notebook": str(paths.notebook),
        "quick": bool(quick),
        "parameters": parameters,
        "parameters_user": user_params,
        "column_map": column_map,
        "input": input_info,
        "versions": versions(),
        "kernel_name": "python3",
        "timeout_s": timeout,
        "timings": {"started": started, "prepare_s": round(time.perf_counter() - t0, 3)},
    }
    return PreparedRun(entry_id, base, paths.notebook, parameters, target, tmp, timeout, record, t0)


def execute(
    run: PreparedRun,
    *,
    settings: Settings | None = None,
    log_output: bool = False,
    progress_bar: bool | None = None,
) -> BaseException | None:
    """Execute the notebook with papermill in the temporary folder, measuring its footprint.

    Returns what made the run fail (a cell's error, or no ``metrics.json``), else ``None``.
    """
    import papermill as pm

    error: BaseException | None = None
    with _kernel_env(run.root), Footprint(settings=settings) as fp:
        try:
            pm.execute_notebook(
                str(run.notebook),
                str(run.executed),
                parameters=run.parameters,
                kernel_name="python3",
                language="python",
                cwd=str(run.tmp),
                execution_timeout=run.timeout,
                log_output=log_output,
                progress_bar=sys.stderr.isatty() if progress_bar is None else progress_bar,
                # ipykernel 7 warns about TCP without encryption on every start (the
                # kernel listens on 127.0.0.1 only); keep the user's terminal clean.
                extra_arguments=["--IPKernelApp.log_level=ERROR"],
            )
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # every notebook failure is reported, none escapes
            error = exc
    footprint = fp.result()
    run.record["footprint"] = footprint
    timings = run.record["timings"]
    timings["cells"] = cell_durations(run.executed, run.notebook)
    timings.update(ended=_now(), execute_s=footprint["wall_s"])
    if error is None and not (run.tmp / METRICS_NAME).is_file():
        error = RuntimeError(f"le notebook n'a pas écrit {METRICS_NAME} dans output_dir")
    return error


def write_report(run: PreparedRun) -> None:
    """The French HTML report of the executed notebook, in the temporary folder."""
    from hub.runner.report import write_report as render

    t_report = time.perf_counter()
    render(run.executed, run.tmp / REPORT_NAME, run.record)
    run.record["timings"]["report_s"] = round(time.perf_counter() - t_report, 3)


def verdict(run: PreparedRun, error: BaseException | None) -> tuple[str, int, str]:
    """``(status, exit code, French message)`` of a run; the error's details go to the record."""
    if error is None:
        message = f"Exécution réussie de « {run.entry_id} » : résultats dans {run.target}"
        return "success", EXIT_OK, message
    message, details = failure_message(error, run.notebook)
    run.record["error"] = details
    if details.get("exception") in DATA_ERRORS:
        # The entry refused the data inside the notebook: the file is the problem.
        message = (
            f"Le fichier ne peut pas être utilisé par l'entrée « {run.entry_id} » "
            f"(arrêt dans la cellule n° {details.get('cell_number')}) :\n{details['message']}"
        )
        return "invalid", EXIT_INVALID, message
    return "failed", EXIT_FAILED, message


def record(run: PreparedRun, error: BaseException | None) -> tuple[str, int, str]:
    """Write the report (after a success) and ``run.json`` in the temporary folder."""
    if error is None:
        try:
            write_report(run)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # report rendering failed: the run failed
            error = exc
    run.record["timings"]["total_s"] = round(time.perf_counter() - run.t0, 3)
    status, code, message = verdict(run, error)
    run.record.update(status=status, exit_code=code)
    # what this run wrote: a later run over the same folder replaces these, keeps the rest
    run.record["files"] = sorted({p.name for p in run.tmp.iterdir()} | {outputs.RUN_FILE})
    outputs.write_json(run.tmp / outputs.RUN_FILE, run.record)
    return status, code, message


def publish(run: PreparedRun, status: str, code: int, message: str, *, keep_failed: bool):
    """Move a successful run to its target; set a failed one aside (or remove it)."""
    if code == EXIT_OK:
        outputs.publish(run.tmp, run.target)
        return RunResult(run.entry_id, status, code, message, run.target, None, run.record)
    failed = outputs.discard(run.tmp, run.target, keep=keep_failed)
    if failed is not None:
        message += (
            f"\nRien n'a été écrit dans {run.target}. Le notebook partiellement exécuté est "
            f"conservé pour diagnostic dans {failed}."
        )
    else:
        message += f"\nRien n'a été écrit dans {run.target}."
    return RunResult(run.entry_id, status, code, message, None, failed, run.record)


def run_entry(
    entry_id: str,
    *,
    data: Path | str | None = None,
    column_map: dict[str, str] | None = None,
    param_args: list[str] | None = None,
    params: dict[str, Any] | None = None,
    out: Path | str | None = None,
    quick: bool = False,
    root: Path | str | None = None,
    timeout: int = DEFAULT_TIMEOUT_S,
    log_output: bool = False,
    progress_bar: bool | None = None,
    keep_failed: bool = True,
    settings: Settings | None = None,
    min_share: float | None = None,
) -> RunResult:
    """Run ``entry_id``'s notebook; never raises for user errors (see ``RunResult``).

    ``settings`` gives the footprint's constants (the declared defaults when ``None``) and
    the least share of usable rows (``BIBLIO_MIN_USABLE_SHARE``) unless ``min_share`` is
    given.
    """
    if min_share is None and settings is not None:
        min_share = settings.min_usable_share
    try:
        run = prepare(
            entry_id,
            data=data,
            column_map=column_map,
            param_args=param_args,
            params=params,
            out=out,
            quick=quick,
            root=root,
            timeout=timeout,
            min_share=min_share,
        )
    except BiblioError as exc:
        return RunResult(entry_id, "invalid", EXIT_INVALID, str(exc))
    try:
        error = execute(run, settings=settings, log_output=log_output, progress_bar=progress_bar)
    except KeyboardInterrupt:
        outputs.discard(run.tmp, run.target, keep=False)
        raise
    except Exception as exc:  # the measure itself failed: same treatment as a notebook failure
        error = exc
        run.record["timings"].setdefault("ended", _now())
    return publish(run, *record(run, error), keep_failed=keep_failed)


__all__ = ["RunResult", "run_entry"]
