"""A static map of France for the catalog: projected points over a simplified outline.

No tiles, no external requests: the outline is a hand-simplified polygon of metropolitan
France and Corsica (about 10 km precision, enough to place a city), projected
equirectangularly with a cosine correction at 46.5° N. The template draws the SVG.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

LAT_MIN, LAT_MAX, LON_MIN, LON_MAX = 41.2, 51.3, -5.3, 9.8
WIDTH = 560
_COS = math.cos(math.radians(46.5))
_SCALE = WIDTH / ((LON_MAX - LON_MIN) * _COS)
HEIGHT = round((LAT_MAX - LAT_MIN) * _SCALE)

MAINLAND: tuple[tuple[float, float], ...] = (
    (51.05, 2.37), (50.80, 2.63), (50.69, 3.17), (50.50, 3.60), (50.30, 4.10), (50.02, 4.15),
    (50.15, 4.82), (49.80, 4.85), (49.55, 5.47), (49.47, 6.36), (49.17, 6.73), (48.97, 8.23),
    (48.60, 7.80), (48.00, 7.60), (47.59, 7.59), (47.40, 7.00), (47.00, 6.50), (46.40, 6.10),
    (46.40, 6.80), (46.00, 7.00), (45.50, 7.10), (45.10, 6.70), (44.70, 7.00), (44.20, 7.70),
    (43.78, 7.50), (43.55, 7.00), (43.10, 6.20), (43.30, 5.30), (43.40, 4.70), (43.50, 4.10),
    (43.20, 3.20), (42.80, 3.05), (42.43, 3.17), (42.50, 2.50), (42.60, 1.70), (42.70, 0.70),
    (42.85, -0.30), (43.00, -1.00), (43.35, -1.78), (43.70, -1.45), (44.60, -1.25),
    (45.60, -1.20), (46.00, -1.20), (46.30, -1.50), (46.70, -2.10), (47.10, -2.20),
    (47.30, -2.50), (47.50, -2.80), (47.70, -3.40), (47.80, -4.20), (48.00, -4.70),
    (48.40, -4.80), (48.65, -4.40), (48.70, -3.60), (48.85, -3.00), (48.60, -2.30),
    (48.65, -1.50), (48.80, -1.60), (49.30, -1.80), (49.72, -1.94), (49.65, -1.25),
    (49.40, -1.10), (49.35, -0.40), (49.45, 0.10), (49.70, 0.20), (49.95, 1.10), (50.20, 1.60),
    (50.70, 1.60), (50.95, 1.85),
)  # fmt: skip
CORSICA: tuple[tuple[float, float], ...] = (
    (43.00, 9.45), (42.70, 9.45), (42.10, 9.55), (41.60, 9.30), (41.39, 9.20), (41.70, 8.80),
    (42.10, 8.60), (42.50, 8.65), (42.70, 9.20), (43.00, 9.35),
)  # fmt: skip


def project(lat: float, lon: float) -> tuple[float, float] | None:
    """SVG coordinates of a point, or ``None`` outside the map (overseas)."""
    if not (LAT_MIN <= lat <= LAT_MAX and LON_MIN <= lon <= LON_MAX):
        return None
    return round((lon - LON_MIN) * _COS * _SCALE, 1), round((LAT_MAX - lat) * _SCALE, 1)


def outline_paths() -> list[str]:
    """SVG path data of the outline polygons."""
    paths = []
    for polygon in (MAINLAND, CORSICA):
        pts = [project(lat, lon) for lat, lon in polygon]
        paths.append("M" + " L".join(f"{p[0]},{p[1]}" for p in pts if p) + " Z")
    return paths


def map_model(points: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """What the map template needs: size, outline, placed points and points off the map."""
    placed, elsewhere = [], []
    for p in points:
        xy = project(p["lat"], p["lon"])
        if xy is None:
            elsewhere.append(dict(p))
        else:
            placed.append({**p, "x": xy[0], "y": xy[1]})
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "outline": outline_paths(),
        "points": placed,
        "elsewhere": elsewhere,
    }
