"""Launch latency of a demonstrator: REST API (request -> ready) and browser (click -> notebook).

Starts a throwaway hub (``tests.support.localhub.LocalHub``, real proxy, demo mode, state in a
temporary folder), then:

- **api**: ``POST /hub/api/users/<u>/servers/<entry_id>`` with the user's token, until the
  server is ready (JupyterHub answers 201 once it is up and routed), ``--launches`` times,
  each followed by a stop (also timed);
- **browser**: Chromium (``/usr/bin/chromium``, Playwright) logged in as the demo expert opens
  the one-click launch link and waits for the notebook's cells to be drawn by JupyterLab,
  ``--launches`` times (browser cache kept, as for a returning user).

A first launch of each kind is a warm-up reported apart (``first``). Output: one JSON
document on stdout (and ``--out``). Examples::

    .venv/bin/python benchmarks/launch.py --launches 10
    .venv/bin/python benchmarks/launch.py --launches 10 --no-forkserver   # baseline
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.config.settings import Settings  # noqa: E402
from hub.spawners import launch  # noqa: E402
from models.entries import entry_ids  # noqa: E402
from tests.support.localhub import LocalHub  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def summary(samples: list[float]) -> dict:
    """n, p50, p95, min, max (seconds, 3 decimals) and the samples."""
    ordered = sorted(samples)
    if not ordered:
        return {"n": 0}
    p95_index = min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 3),
        "p95": round(ordered[p95_index], 3),
        "min": round(ordered[0], 3),
        "max": round(ordered[-1], 3),
        "samples": [round(s, 3) for s in samples],
    }


def bench_api(hub: LocalHub, entry_id: str, launches: int) -> dict:
    token = hub.create_user("bench", ("experts",))
    first = hub.start_server("bench", entry_id, token=token)
    hub.stop_server("bench", entry_id)
    starts, stops = [], []
    for _ in range(launches):
        starts.append(hub.start_server("bench", entry_id, token=token))
        t0 = time.perf_counter()
        hub.stop_server("bench", entry_id)
        stops.append(time.perf_counter() - t0)
    return {"first": round(first, 3), "launch": summary(starts), "stop": summary(stops)}


def bench_browser(hub: LocalHub, entry_id: str, launches: int) -> dict:
    from playwright.sync_api import sync_playwright

    url = hub.url + launch.launch_url("/", "expert", entry_id)
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(hub.url + "/hub/login")
        page.fill("#username_input", "expert")
        page.fill("#password_input", hub.printed_passwords()["expert"])
        page.click("#login_submit")
        page.wait_for_load_state("load")
        for _ in range(launches + 1):
            page.goto("about:blank")
            t0 = time.perf_counter()
            page.goto(url)
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
            times.append(time.perf_counter() - t0)
            page.goto("about:blank")
            hub.stop_server("expert", entry_id)
        browser.close()
    return {"first": round(times[0], 3), "launch": summary(times[1:])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=10)
    parser.add_argument("--entry", help="entry id (default: the first entry)")
    parser.add_argument("--no-browser", action="store_true", help="API launches only")
    parser.add_argument("--no-forkserver", action="store_true", help="BIBLIO_FORKSERVER=0")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    repo = Settings.from_env().repo_root
    entries = entry_ids(repo)
    if not entries:
        print(f"aucune entrée : aucun notebooks/*.ipynb dans {repo}", file=sys.stderr)
        return 2
    entry_id = args.entry or entries[0]
    env = {"BIBLIO_DEMO": "1", "BIBLIO_REPO_ROOT": str(repo)}
    if args.no_forkserver:
        env["BIBLIO_FORKSERVER"] = "0"
    result: dict = {
        "entry_id": entry_id,
        "forkserver": not args.no_forkserver,
        "cpus": os.cpu_count(),
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
    }
    with tempfile.TemporaryDirectory(prefix="biblio-bench-") as tmp:
        hub = LocalHub(tmp, env=env)
        t0 = time.perf_counter()
        hub.start()
        result["hub_start_s"] = round(time.perf_counter() - t0, 3)
        try:
            result["api"] = bench_api(hub, entry_id, args.launches)
            if not args.no_browser:
                result["browser"] = bench_browser(hub, entry_id, args.launches)
        finally:
            hub.stop()
    result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
