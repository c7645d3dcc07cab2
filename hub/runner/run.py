"""Run one entry's notebook on the sample or on a user's file: ``run_entry``.

Order of work: check the parameters against the notebook (before anything runs), read and
validate the user's file with the entry module (stop with the French report, exit code 2),
execute the notebook with papermill in a temporary folder (kernel ``python3``, working
directory = that folder, timeout per cell, outputs logged, a progress bar on a terminal),
check ``metrics.json`` was written, render the HTML report, write ``run.json``, and only then
move the folder to its target. A failing cell gives a French message naming the cell and the
exception (exit code 1) and leaves the target untouched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import nbformat

from hub.runner import entries, outputs
from hub.runner.footprint import Footprint
from hub.runner.params import (
    RESERVED,
    ParameterError,
    check_parameters,
    notebook_parameters,
    parse_param_args,
)
from models.contract import METRICS_NAME
from models.errors import BiblioError

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


def check_data(
    entry_id: str, data: Path, column_map: dict[str, str], root: Path
) -> tuple[bool, str]:
    """Read and validate the user's file with the entry module: (ok, French report)."""
    if not data.is_file():
        return False, f"Fichier introuvable : {data}."
    try:
        module = entries.load_module(entry_id, root)
    except BiblioError:
        raise
    except Exception as exc:  # a broken entry module: say so, without a traceback
        raise entries.EntryError(
            f"Le module de l'entrée « {entry_id} » ne peut pas être importé : "
            f"{type(exc).__name__} : {exc}"
        ) from exc
    if not callable(getattr(module, "validate_file", None)):
        raise entries.EntryError(f"Le module de l'entrée « {entry_id} » n'a pas validate_file().")
    try:
        report = module.validate_file(str(data), column_map or None)
    except BiblioError as exc:
        return False, str(exc)
    if not report.ok:
        return False, report.to_text()
    return True, report.to_text()


def default_out(entry_id: str) -> Path:
    return Path("resultats") / entry_id


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
) -> RunResult:
    """Run ``entry_id``'s notebook; never raises for user errors (see ``RunResult``)."""
    started = _now()
    t0 = time.perf_counter()
    try:
        base = entries.repo_root(root)
        paths = entries.require_entry(entry_id, base)
        nb_params = notebook_parameters(paths.notebook)
        missing = [p for p in REQUIRED_PARAMETERS if p not in nb_params]
        if missing:
            raise entries.EntryError(
                f"Le notebook {paths.notebook.name} ne déclare pas les paramètres "
                f"obligatoires : {', '.join(missing)}."
            )
        user_params = parse_param_args(param_args, nb_params)
        if params:
            check_parameters(params, nb_params)
            user_params.update(params)
        if "quick" in user_params:
            quick = bool(user_params.pop("quick"))
        column_map = dict(column_map or {})
        data_path = Path(data).expanduser().resolve() if data is not None else None
        if column_map and data_path is None:
            raise ParameterError("L'option --map s'utilise avec --data (votre fichier).")
        input_info: dict[str, Any] = {"path": None, "sha256": None, "validation": None}
        if data_path is not None:
            ok, text = check_data(entry_id, data_path, column_map, base)
            if not ok:
                msg = f"Le fichier ne peut pas être utilisé par l'entrée « {entry_id} » :\n{text}"
                return RunResult(entry_id, "invalid", EXIT_INVALID, msg)
            input_info = {
                "path": str(data_path),
                "sha256": sha256(data_path),
                "bytes": data_path.stat().st_size,
                "validation": text,
            }
        target = Path(out if out is not None else default_out(entry_id)).resolve()
        tmp = outputs.prepare(target)
    except BiblioError as exc:
        return RunResult(entry_id, "invalid", EXIT_INVALID, str(exc))

    parameters = {
        "data_path": input_info["path"],
        "column_map": column_map,
        "quick": bool(quick),
        "output_dir": ".",
        **user_params,
    }
    title = entries.entry_title(entry_id, base, cheap=True)
    run: dict[str, Any] = {
        "entry_id": entry_id,
        "title": title,
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
    executed = tmp / f"{entry_id}.ipynb"
    error: BaseException | None = None
    if progress_bar is None:
        progress_bar = sys.stderr.isatty()
    try:
        import papermill as pm

        with _kernel_env(base), Footprint() as fp:
            try:
                pm.execute_notebook(
                    str(paths.notebook),
                    str(executed),
                    parameters=parameters,
                    kernel_name="python3",
                    language="python",
                    cwd=str(tmp),
                    execution_timeout=timeout,
                    log_output=log_output,
                    progress_bar=progress_bar,
                    # ipykernel 7 warns about TCP without encryption on every start (the
                    # kernel listens on 127.0.0.1 only); keep the user's terminal clean.
                    extra_arguments=["--IPKernelApp.log_level=ERROR"],
                )
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # every notebook failure is reported, none escapes
                error = exc
        run["footprint"] = fp.result()
        run["timings"]["cells"] = cell_durations(executed, paths.notebook)
        run["timings"].update(ended=_now(), execute_s=run["footprint"]["wall_s"])
        if error is None and not (tmp / METRICS_NAME).is_file():
            error = RuntimeError(f"le notebook n'a pas écrit {METRICS_NAME} dans output_dir")
        if error is None:
            from hub.runner.report import write_report

            t_report = time.perf_counter()
            write_report(executed, tmp / REPORT_NAME, run)
            run["timings"]["report_s"] = round(time.perf_counter() - t_report, 3)
    except KeyboardInterrupt:
        outputs.discard(tmp, target, keep=False)
        raise
    except Exception as exc:  # report rendering failed: same treatment as a notebook failure
        error = exc
        run.setdefault("timings", {}).setdefault("ended", _now())

    run["timings"]["total_s"] = round(time.perf_counter() - t0, 3)
    if error is not None:
        message, details = failure_message(error, paths.notebook)
        status, code = "failed", EXIT_FAILED
        if details.get("exception") in DATA_ERRORS:
            # The entry refused the data inside the notebook: the file is the problem.
            status, code = "invalid", EXIT_INVALID
            message = (
                f"Le fichier ne peut pas être utilisé par l'entrée « {entry_id} » "
                f"(arrêt dans la cellule n° {details.get('cell_number')}) :\n{details['message']}"
            )
        run.update(status=status, exit_code=code, error=details)
        outputs.write_json(tmp / outputs.RUN_FILE, run)
        failed = outputs.discard(tmp, target, keep=keep_failed)
        if failed is not None:
            message += (
                f"\nRien n'a été écrit dans {target}. Le notebook partiellement exécuté est "
                f"conservé pour diagnostic dans {failed}."
            )
        else:
            message += f"\nRien n'a été écrit dans {target}."
        return RunResult(entry_id, status, code, message, None, failed, run)

    run.update(status="success", exit_code=EXIT_OK)
    outputs.write_json(tmp / outputs.RUN_FILE, run)
    outputs.publish(tmp, target)
    message = f"Exécution réussie de « {entry_id} » : résultats dans {target}"
    return RunResult(entry_id, "success", EXIT_OK, message, target, None, run)


__all__ = ["RESERVED", "RunResult", "run_entry"]
