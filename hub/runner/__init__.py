"""The notebook runner behind ``biblio run``: parameters, execution, reports, footprint.

Public API: ``run_entry`` (one entry, see ``hub.runner.run``), ``run_all`` (every entry in
parallel, see ``hub.runner.run_all``) and ``RunResult``.
"""

from hub.runner.run import RunResult, run_entry
from hub.runner.run_all import run_all

__all__ = ["RunResult", "run_all", "run_entry"]
