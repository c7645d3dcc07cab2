"""Entry point of the single-user servers: ``python -m hub.singleuser`` = jupyterhub-singleuser.

The only difference: ``rfc3987_syntax`` is made unimportable before Jupyter Server loads.
``jsonschema`` imports it eagerly for its ``iri``/``iri-reference`` format checkers and that
import compiles Earley grammars for ~1.2 s on this machine (about half of a server's start,
see jupyter-server/jupyter_server#1559); no Jupyter schema uses those formats, so
``jsonschema`` simply goes without them. Everything else is ``jupyterhub.singleuser.main``.
"""

from __future__ import annotations

import sys

SLOW_OPTIONAL_MODULES = ("rfc3987_syntax",)


def block_slow_optional_imports() -> None:
    """Make the optional slow modules raise ImportError (unless already imported)."""
    for name in SLOW_OPTIONAL_MODULES:
        sys.modules.setdefault(name, None)


def main() -> None:
    block_slow_optional_imports()
    from jupyterhub.singleuser import main as singleuser_main

    sys.exit(singleuser_main())


if __name__ == "__main__":
    main()
