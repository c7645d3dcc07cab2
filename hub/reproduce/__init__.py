"""« Essayer sur mes données » : a collectivité runs a reference model on its own file.

A hub-managed service (``hub.reproduce.service``, run as ``python -m hub.reproduce``) for
users holding the custom scope ``custom:biblio:reproduire``: upload (``uploads``), column
mapping (``fields``), validation, parameters (``paramform``), a persisted job queue
(``store``) run by a scheduler (``scheduler``) through a runner (``runners``) on a backend
(``backends``: local subprocess with limits, a container per job, a Kubernetes Job), progress
and results. See ``docs/reproduction.md``.
"""
