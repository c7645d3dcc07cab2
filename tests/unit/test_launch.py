"""Launch URLs of the one-click demonstrators."""

from urllib.parse import parse_qs, urlsplit

import pytest

from hub.spawners import launch
from models.entries import UnknownEntryError


def test_launch_url_starts_named_server_and_opens_notebook():
    url = launch.launch_url("/", "alice", "canteen_attendance")
    parts = urlsplit(url)
    assert parts.path == "/hub/spawn/alice/canteen_attendance"
    query = parse_qs(parts.query)
    assert query == {
        "next": [
            "/user/alice/canteen_attendance/lab/workspaces/canteen_attendance/tree/"
            "canteen_attendance/canteen_attendance.ipynb"
        ]
    }


def test_launch_url_under_base_url_and_escaped_user():
    url = launch.launch_url("biblio", "jean dupont@x", "air_quality")
    parts = urlsplit(url)
    assert parts.path == "/biblio/hub/spawn/jean%20dupont%40x/air_quality"
    (next_url,) = parse_qs(parts.query)["next"]
    assert next_url.startswith("/biblio/user/jean%20dupont%40x/air_quality/lab/workspaces/")


def test_reset_link_adds_reset_argument():
    url = launch.launch_url("/", "bob", "bike_counters", reset=True)
    query = parse_qs(urlsplit(url).query)
    assert query["reset"] == ["1"] and "next" in query


def test_default_url_and_notebook_path_agree():
    assert launch.notebook_path("x_1") == "x_1/x_1.ipynb"
    assert launch.default_url("x_1") == "/lab/workspaces/x_1/tree/x_1/x_1.ipynb"
    assert launch.server_url("/", "u", "x_1") == "/user/u/x_1/"
    assert (
        launch.notebook_url("/", "u", "x_1") == "/user/u/x_1/lab/workspaces/x_1/tree/x_1/x_1.ipynb"
    )


@pytest.mark.parametrize(
    "bad", ["", "../etc", "Canteen", "a/b", "x?y", "1abc", "a" * 80, "a" * 41, "a__", "a_"]
)
def test_invalid_entry_ids_are_refused(bad):
    with pytest.raises(UnknownEntryError):
        launch.launch_url("/", "alice", bad)
