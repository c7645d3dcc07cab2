"""Browser layer: every test in ``tests/e2e`` is marked ``e2e`` (Chromium via Playwright)."""

from pathlib import Path

import pytest

from tests.support.browser import launch_chromium

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="module")
def chromium():
    """One Debian Chromium per test module (each test opens its own contexts).

    Module scope, not session: Playwright's sync API holds an asyncio loop marked as
    running in the main thread while it is open, and the layers collected after this
    one (tornado and ``asyncio.run`` tests) cannot start their own loop under it.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        yield browser
        browser.close()
