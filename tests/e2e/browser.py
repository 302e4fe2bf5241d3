"""What the browser tests share: Debian's chromium, posting as the broker, and page checks."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import Page

from tests.conftest import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
EASTERN = ZoneInfo("America/Toronto")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def post(server: LiveServer, path: str, body: dict[str, object]) -> dict[str, object]:
    response = httpx.post(f"{server.url}{path}", json=body, headers=server.broker, timeout=10)
    assert response.status_code in (200, 201), response.text
    result: dict[str, object] = response.json()
    return result


def assert_absent(page: Page, secrets: Iterable[str]) -> None:
    """None of `secrets` is visible on the page or anywhere in its HTML."""
    html = page.content()
    text = page.locator("body").inner_text()
    for secret in secrets:
        assert secret not in text, f"{secret!r} is visible on {page.url}"
        assert secret not in html, f"{secret!r} is in the HTML of {page.url}"


def assert_screenshot(page: Page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)
    assert path.is_file(), path
    assert path.stat().st_size > 0, path
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
