"""``python -m hub.reproduce``: the command the hub runs for the reproduce service.

A main module with nothing to import: the service's validation process is started with
multiprocessing's *spawn* method, which re-imports the parent's main module in the child —
unless it is a package's ``__main__``. With ``hub.reproduce.service`` as the main module, a
child started as the service was killed spent seconds importing tornado and JupyterHub before
its initializer could notice the dead parent (``hub.reproduce.worker.follow_parent``), and
outlived it; from here it reaches its initializer at once.
"""

if __name__ == "__main__":
    import sys

    from hub.reproduce.service import main

    sys.exit(main())
