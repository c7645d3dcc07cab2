"""Load benchmark of the catalog: N concurrent anonymous clients on 127.0.0.1 (a script).

Starts a throwaway hub (``tests.support.localhub.LocalHub``: the real configuration and proxy)
unless ``--url`` points at a running one, then runs ``--clients`` concurrent anonymous clients, each
sending ``--requests`` requests alternating the catalog page (search + filter) and the JSON
API, through the public proxy. Bounded: at most 200 clients, 200 requests each, and
``--max-seconds``. Prints JSON: p50/p95/max latency of page and API, throughput, errors.

    .venv/bin/python benchmarks/catalog_load.py [--clients 50] [--requests 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

QUERIES = [
    ("page", "/services/catalog/?q=cantines"),
    ("api", "/services/catalog/api/projets?q=cantines"),
    ("page", "/services/catalog/?theme=Mobilit%C3%A9s"),
    ("api", "/services/catalog/api/projets?statut=En%20exp%C3%A9rimentation"),
    ("page", "/services/catalog/projet/canteen_attendance"),
    ("api", "/services/catalog/api/projets/air_quality"),
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


async def client(base: str, n: int, offset: int, deadline: float, out: dict) -> None:
    http = AsyncHTTPClient()
    for i in range(n):
        if time.monotonic() > deadline:
            return
        kind, path = QUERIES[(offset + i) % len(QUERIES)]
        t0 = time.perf_counter()
        try:
            r = await http.fetch(base + path, request_timeout=30, follow_redirects=False)
            ok = r.code == 200 and len(r.body) > 0
        except (HTTPClientError, OSError):
            ok = False
        out[kind].append(time.perf_counter() - t0)
        if not ok:
            out["errors"] += 1


async def run(base: str, clients: int, requests: int, max_seconds: float) -> dict:
    AsyncHTTPClient.configure(None, max_clients=clients)
    out: dict = {"page": [], "api": [], "errors": 0}
    # warm-up (templates compiled, connections open)
    await client(base, len(QUERIES), 0, time.monotonic() + 30, {"page": [], "api": [], "errors": 0})
    deadline = time.monotonic() + max_seconds
    t0 = time.perf_counter()
    await asyncio.gather(*(client(base, requests, c, deadline, out) for c in range(clients)))
    wall = time.perf_counter() - t0
    total = len(out["page"]) + len(out["api"])

    def stats(values: list[float]) -> dict:
        ms = [v * 1000 for v in values]
        return {
            "requests": len(ms),
            "p50_ms": round(statistics.median(ms), 1) if ms else None,
            "p95_ms": round(percentile(ms, 0.95), 1) if ms else None,
            "max_ms": round(max(ms), 1) if ms else None,
        }

    return {
        "url": base,
        "clients": clients,
        "requests_per_client": requests,
        "wall_s": round(wall, 2),
        "throughput_rps": round(total / wall, 1) if wall else None,
        "errors": out["errors"],
        "page": stats(out["page"]),
        "api": stats(out["api"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="hub already running (127.0.0.1 only)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--max-seconds", type=float, default=60)
    args = parser.parse_args(argv)
    clients = max(1, min(args.clients, 200))
    requests = max(1, min(args.requests, 200))
    hub = None
    base = args.url
    if base:
        if urlparse(base).hostname not in ("127.0.0.1", "localhost"):
            parser.error("--url doit viser 127.0.0.1 (boucle locale uniquement)")
    else:
        from tests.support.localhub import LocalHub

        hub = LocalHub(Path(tempfile.mkdtemp(prefix="biblio-catalog-load-")))
        hub.start()
        base = hub.url
    try:
        result = asyncio.run(run(base.rstrip("/"), clients, requests, min(args.max_seconds, 300)))
    finally:
        if hub is not None:
            hub.stop()
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
