"""Joint workspaces, measured with two real browsers: creation, joining, edits, stop, memory.

Starts a throwaway hub (``tests.support.localhub.LocalHub``, real proxy, demo mode), logs the
demo accounts ``expert`` (owner) and ``experte`` (member) into two Chromium contexts, then for
each of ``--rounds`` workspaces (made from ``--entry``):

- **creation**: the owner submits "Créer un espace" -> the notebook is drawn in JupyterLab;
- **join**: the member opens the invitation link, accepts -> the notebook is drawn;
- **propagation**: ``--edits`` insertions each way in the first code cell, each timed from the
  writer's insertion to the text showing in the other browser (jupyter-collaboration);
- **memory**: resident memory of the workspace server and of its kernels, both members in;
- **stop**: the hub API stops the server while both members are connected, until the hub
  reports it stopped (jupyter-collaboration's slow shutdown, issue #161, must not show).

The first round is a warm-up reported apart (``first``). Output: one JSON document on stdout
(and ``--out``). Example::

    .venv/bin/python benchmarks/workspaces.py --rounds 5 --edits 10
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.launch import summary  # noqa: E402
from hub.spawners.forkclient import server_title  # noqa: E402
from tests.support import collab  # noqa: E402
from tests.support.browser import launch_chromium, log_in  # noqa: E402
from tests.support.localhub import LocalHub  # noqa: E402

OWNER, MEMBER = "expert", "experte"


def server_memory_mb(owner: str, ws: str) -> dict:
    """RSS of the workspace server (found by its process title) and of its kernels, in MB."""
    title = server_title(owner, ws)
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if " ".join(proc.info["cmdline"] or []).startswith(title):
                kernels = proc.children(recursive=True)
                server = proc.memory_info().rss / 2**20
                kernel = sum(k.memory_info().rss for k in kernels) / 2**20
                return {
                    "server": round(server, 1),
                    "kernels": round(kernel, 1),
                    "total": round(server + kernel, 1),
                    "n_kernels": len(kernels),
                }
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return {}


def one_round(hub, owner_page, member_page, entry_id: str, index: int, edits: int) -> dict:
    ws_title = f"Banc {index} {time.monotonic_ns() % 10**6}"
    creation = collab.create_workspace(owner_page, hub, ws_title, entry_id)
    ws = owner_page.url.split(f"/user/{OWNER}/")[1].split("/")[0]
    link_page = owner_page.context.new_page()
    link = collab.invitation_link(link_page, hub, ws)
    link_page.close()
    join = collab.join_by_link(member_page, link, entry_id)
    propagation = []
    for i in range(edits):
        propagation.append(collab.propagation(owner_page, member_page, f"a{i}"))
        propagation.append(collab.propagation(member_page, owner_page, f"b{i}"))
    names = (collab.collaborator_names(owner_page), collab.collaborator_names(member_page))
    memory = server_memory_mb(OWNER, ws)
    t0 = time.perf_counter()
    r = hub.api("DELETE", f"users/{OWNER}/servers/{ws}")
    r.raise_for_status()
    hub.wait_stopped(OWNER, ws, timeout=60)
    stop = time.perf_counter() - t0
    return {
        "workspace": ws,
        "creation": creation,
        "join": join,
        "propagation": propagation,
        "memory_mb": memory,
        "stop": stop,
        "collaborators_seen": names,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--edits", type=int, default=10, help="insertions each way per round")
    parser.add_argument("--entry", default="canteen_attendance")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="biblio-bench-ws-") as tmp:
        hub = LocalHub(tmp, env={"BIBLIO_DEMO": "1", "BIBLIO_NAMED_SERVER_LIMIT": "50"})
        hub.start()
        try:
            with sync_playwright() as p:
                browser = launch_chromium(p)
                owner_ctx = browser.new_context(viewport={"width": 1400, "height": 900})
                member_ctx = browser.new_context(viewport={"width": 1400, "height": 900})
                owner_page, member_page = owner_ctx.new_page(), member_ctx.new_page()
                log_in(owner_page, hub, OWNER)
                log_in(member_page, hub, MEMBER)
                rounds = [
                    one_round(hub, owner_page, member_page, args.entry, i, args.edits)
                    for i in range(args.rounds + 1)
                ]
                browser.close()
            stop_log = [
                line for line in hub.log_text().splitlines() if "ended" in line and "ws-" in line
            ]
        finally:
            hub.stop()
    first, rest = rounds[0], rounds[1:] or rounds[:1]
    result = {
        "benchmark": "workspaces",
        "entry": args.entry,
        "rounds": args.rounds,
        "edits_each_way_per_round": args.edits,
        "first": {k: first[k] for k in ("creation", "join", "stop")},
        "creation_to_lab_s": summary([r["creation"] for r in rest]),
        "join_by_link_to_lab_s": summary([r["join"] for r in rest]),
        "edit_propagation_s": summary([s for r in rest for s in r["propagation"]]),
        "stop_with_two_members_s": summary([r["stop"] for r in rest]),
        "memory_two_members_mb": [r["memory_mb"] for r in rest],
        "collaborators_seen": rest[-1]["collaborators_seen"],
        "server_ends": stop_log[-len(rounds) :],
    }
    for key in ("edit_propagation_s",):
        result[key].pop("samples", None)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
