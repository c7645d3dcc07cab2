"""The expert part of an entry, rendered server-side: model card, datasheet, notebook
preview, source files, last CI metrics and footprint.

Markdown is rendered with mistune with raw HTML escaped; the notebook preview is made by
nbconvert's ``basic`` HTML template with outputs dropped; source files are returned as
text (the template escapes them), a folder of sources (an entry's package) file by file.
Results are cached per file modification time.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import mistune

from hub.catalog.records import source_files
from models.french import METRIC_LABELS, fmt_fr

_MARKDOWN = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])
MAX_SOURCE_CHARS = 200_000


def _inside(root: Path, rel: str) -> Path | None:
    """``root / rel`` if it stays inside ``root`` and is a file, else ``None``."""
    path = (root / rel).resolve()
    try:
        path.relative_to(root.resolve())
    except ValueError:
        return None
    return path if path.is_file() else None


def _mtime(path: Path | None) -> float:
    return path.stat().st_mtime if path is not None else 0.0


@lru_cache(maxsize=64)
def _markdown_cached(path: str, mtime: float) -> str:
    return _MARKDOWN(Path(path).read_text(encoding="utf-8"))


def render_markdown_file(path: Path | None) -> str | None:
    """Safe HTML of a Markdown file (raw HTML inside is escaped), or ``None``."""
    if path is None:
        return None
    return _markdown_cached(str(path), _mtime(path))


@lru_cache(maxsize=16)
def _notebook_cached(path: str, mtime: float) -> str:
    import nbformat
    from nbconvert import HTMLExporter

    # nbconvert's sanitiser escapes rendered Markdown cells (7.17): instead, outputs are
    # dropped (notebooks are committed without them) and the page's CSP forbids inline
    # scripts. Markdown cells are the project's own text.
    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    body, _ = exporter.from_notebook_node(nb)
    return body


def render_notebook(path: Path | None) -> str | None:
    """HTML preview of a notebook (nbconvert, basic template, sanitised), or ``None``."""
    if path is None:
        return None
    return _notebook_cached(str(path), _mtime(path))


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def footprint_lines(footprint: dict[str, Any]) -> list[str]:
    """French lines of a runner footprint (``run.json`` → ``footprint``)."""
    try:
        from hub.runner.footprint import to_french

        return to_french(footprint)
    except (ImportError, KeyError, TypeError, ValueError):
        return [f"{k} : {v}" for k, v in footprint.items() if not isinstance(v, dict)]


def _is_figure(value: Any) -> bool:
    """A number a table cell can show (nested tables stay in ``metrics.json``)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _figure(value: Any) -> str:
    """A metric in French notation (three decimals at most), « — » when absent."""
    if not _is_figure(value):  # missing or nested
        return "—"
    if float(value).is_integer() and abs(value) >= 1:
        return fmt_fr(int(value), 0)
    text = fmt_fr(value, 3)
    return text.rstrip("0").rstrip(",") if "," in text else text


def last_run(run_dir: Path) -> dict[str, Any]:
    """Metrics and footprint of the last CI run written in ``run_dir`` (empty when absent): the
    model's and each baseline's scalar metrics under French labels (``METRIC_LABELS``), the
    nested ones (per kind, thresholds, backtests) left to the run's ``metrics.json``."""
    out: dict[str, Any] = {"dossier": str(run_dir), "metrics": None, "run": None, "empreinte": []}
    metrics = _read_json(run_dir / "metrics.json")
    run = _read_json(run_dir / "run.json")
    if metrics is not None:
        model = (metrics.get("model") or {}).get("metrics") or {}
        references = {
            name: (b or {}).get("metrics") or {}
            for name, b in (metrics.get("baselines") or {}).items()
        }
        keys = [k for k, v in model.items() if _is_figure(v)]
        out["metrics"] = {
            "modele": (metrics.get("model") or {}).get("name"),
            "colonnes": [METRIC_LABELS.get(k, k) for k in keys],
            "lignes": [
                (name, [_figure(values.get(k)) for k in keys])
                for name, values in [((metrics.get("model") or {}).get("name"), model)]
                + list(references.items())
            ],
            "periode_test": metrics.get("test_period"),
            "qualite": (metrics.get("data") or {}).get("grade"),
        }
    if run is not None:
        out["run"] = {
            "statut": run.get("status") or run.get("exit_status"),
            "date": (run.get("timings") or {}).get("ended"),
        }
        if isinstance(run.get("footprint"), dict):
            out["empreinte"] = footprint_lines(run["footprint"])
    return out


def expert_material(
    record: dict[str, Any], repo_root: Path | str, runs_dir: Path | str
) -> dict[str, Any]:
    """Everything the expert page shows for ``record`` (paths relative to ``repo_root``)."""
    root = Path(repo_root)
    expert = record.get("expert") or {}
    sources = []
    for rel in [f for s in expert.get("sources") or [] for f in source_files(s, root)]:
        path = _inside(root, rel)
        text = None
        if path is not None:
            text = path.read_text(encoding="utf-8", errors="replace")[:MAX_SOURCE_CHARS]
        sources.append({"chemin": rel, "texte": text})
    run_dir = Path(expert["last_run"]) if expert.get("last_run") else Path(runs_dir) / record["id"]
    if not run_dir.is_absolute():
        run_dir = root / run_dir
    notebook = _inside(root, expert.get("notebook") or "")
    return {
        "fiche_modele": render_markdown_file(_inside(root, expert.get("model_card") or "")),
        "fiche_donnees": render_markdown_file(_inside(root, expert.get("datasheet") or "")),
        "notebook": render_notebook(notebook),
        "notebook_chemin": expert.get("notebook"),
        "sources": sources,
        "derniere_execution": last_run(run_dir),
        "lancement": bool(expert.get("launch")),
    }
