"""The canteen entry on the real Nantes Métropole file (realdata marker: real data, about a
minute): trained before September, judged on September–December it never saw, per canteen
and for the whole city (the file added up by date, as a file without canteen column).

Figures the entry must reach: over-production below the agents' forecast, short days at most the
agents' + 1 per 50 scored rows, empirical coverage within 5 points of the nominal one. Two
school years, so that one good term is not luck. The file is the one shipped in
``datasets/canteen_attendance/`` (same bytes as ``../shared/realdata/canteen``: SHA-256 in
its datasheet, checked by ``test_shipped_data``)."""

from __future__ import annotations

import pytest

import models.canteen_attendance as ca
from models.canteen_attendance.data import REAL_DATA

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module", params=["2018-09-01", "2017-09-01"])
def figures(request):
    return ca.realdata_figures(REAL_DATA, request.param)


@pytest.mark.parametrize("view", ["per_canteen", "network"])
def test_coverage_holds_on_an_unseen_term(figures, view):
    fig = figures[view]
    assert figures["test_period"][0] >= figures["cutoff"]  # nothing before the cut-off
    assert fig["empirical_coverage_pct"] == pytest.approx(fig["nominal_coverage_pct"], abs=5)
    mine = fig["forecasts"][ca.MODEL_NAME]
    assert mine["coverage_pct"] == fig["empirical_coverage_pct"]
    assert fig["level_pct"] >= fig["nominal_coverage_pct"] - 1e-9  # never below nominal


@pytest.mark.parametrize("view", ["per_canteen", "network"])
def test_less_waste_than_the_agents_without_more_short_days(figures, view):
    fig = figures[view]
    mine, agents = fig["forecasts"][ca.MODEL_NAME], fig["forecasts"][ca.AGENTS]
    assert mine["over_production_pct"] < agents["over_production_pct"]
    assert mine["short_days"] <= agents["short_days"] + fig["rows"] / 50
    assert all(fig["checks"].values()), fig["checks"]


def test_both_views_are_the_real_file(figures):
    per, city = figures["per_canteen"], figures["network"]
    assert per["series"] > 80 and per["rows"] > 4000  # about 87 canteens a day
    assert city["series"] == 1 and city["rows"] == per["days"] > 45
    assert "par cantine" in per["safety"] and "l'ensemble de la ville" in city["safety"]
