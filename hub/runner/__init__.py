"""The runner room: the ``biblio`` command line, the notebook runner and the entry scaffold.

- ``hub.runner.cli``: ``biblio <command>`` (console script), French help and exit codes.
- ``hub.runner.commands``: ``run``, ``validate``, ``list``, ``build-model``.
- ``hub.runner.run``: ``run_entry``, one entry's notebook as named steps
  (prepare, execute, record, publish); ``hub.runner.run_all``: every entry, for CI.
- ``hub.runner.params``, ``outputs``, ``report``, ``footprint``: the run's parts.
- ``hub.runner.entries``: loading an entry's package (of this checkout or another root).
- ``hub.runner.scaffold`` + ``hub/runner/templates/``: ``biblio new-entry``.
- ``hub.runner.checks``: the entry contract as checks.

Nothing is imported here, so that ``biblio`` starts without loading nbformat or papermill.
"""
