"""One headless Chromium per test session, a fresh context (cookies, storage) per test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.conftest import Server, start_server

T = TypeVar("T")

# Debian's chromium: Playwright cannot download its own browsers on this machine.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(locale="it-IT", viewport={"width": 1280, "height": 900})
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def wait_received(server: Server, n: int, timeout: float = 20) -> None:
    """Until the collector has received `n` messages and the writer has stored them."""
    deadline = time.monotonic() + timeout
    received = 0
    while time.monotonic() < deadline:
        collector = server.health()["collector"]
        assert isinstance(collector, dict)
        received = int(collector["received"])
        if received >= n:
            server.wait_applied()
            return
        time.sleep(0.05)
    raise AssertionError(f"the collector received {received} of {n} messages")


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One `percorso serve` for the tests that read totals, not rows: a start costs seconds.

    Each test sends with its own write key (its own source), so its events are
    told apart from the others' in the totals.
    """
    home = tmp_path_factory.mktemp("shared") / "home"
    home.mkdir()
    running = start_server(home)
    try:
        yield running
    finally:
        running.stop()


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` in a thread of its own: Playwright's sync API keeps a loop in this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()
