"""A real headless browser for the story pages: Debian's chromium driven by Playwright.

One browser per session. Pages are served to it from the built folder under a made-up
origin (`http://story.test/`) with the server's own security headers, through
Playwright's request routing: any request for another origin is refused and recorded, so
a test can assert that nothing leaves the page. axe-core (npm) is injected to audit
accessibility. Without chromium, Playwright or axe-core the tests skip; under CI (CI=true)
they fail instead (`.ci/run` installs all three).
"""

from __future__ import annotations

import json
import mimetypes
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from feeds.layout import MEDIA_TYPES
from feeds.server import SECURITY_HEADERS
from tests.conftest import ROOT

CHROMIUM = Path(os.environ.get("TIMELINE_CHROMIUM", "/usr/bin/chromium"))
NODE = ROOT / "tests" / "browser" / ".node"
AXE = NODE / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / ".artifacts" / "browser"
ORIGIN = "http://story.test"


def _unavailable(reason: str) -> Any:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; under CI the browser tests must run, not skip")
    pytest.skip(reason)


def ensure_axe() -> Path:
    """axe-core from npm, installed into a folder git ignores when it is not there yet."""
    if not AXE.exists() and shutil.which("npm"):
        NODE.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(NODE), "axe-core@4"],
                       check=False, capture_output=True, timeout=300)  # fmt: skip
    return AXE


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        _unavailable(f"no chromium at {CHROMIUM} (apt-get install -y chromium)")
    if not ensure_axe().exists():
        _unavailable("axe-core is not installed (npm install axe-core)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@dataclass
class Visit:
    page: Any
    external: list[str] = field(default_factory=list)  # requests for anything but the folder
    requests: list[str] = field(default_factory=list)  # every request, the document's included
    console: list[str] = field(default_factory=list)  # errors and CSP reports

    def axe(self) -> list[dict[str, Any]]:
        """The serious and critical accessibility violations axe-core finds."""
        # Through the DevTools protocol, which the page's CSP does not govern (a script tag would be refused).
        self.page.evaluate("source => { (0, eval)(source); }", AXE.read_text(encoding="utf-8"))
        result = self.page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def visit(browser: Any) -> Iterator[Any]:
    """visit(folder, 'index.html', js=True) opens a built page as `serve` would serve it."""
    contexts: list[Any] = []

    def open_page(folder: Path, path: str = "index.html", js: bool = True, width: int = 1000) -> Visit:
        context = browser.new_context(java_script_enabled=js, viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        v = Visit(page)
        root = folder.resolve()

        def handle(route: Any) -> None:
            url = route.request.url
            v.requests.append(url)
            if not url.startswith(ORIGIN + "/"):
                v.external.append(url)
                route.abort()
                return
            rel = url[len(ORIGIN) + 1 :].split("?", 1)[0].split("#", 1)[0]
            target = (root / rel).resolve()
            if not target.is_relative_to(root) or not target.is_file():
                route.fulfill(status=404, body="not found")
                return
            ext = target.suffix.lstrip(".")
            media = MEDIA_TYPES.get(ext) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            headers = {k: val for k, val in SECURITY_HEADERS} | {"Content-Type": media}
            route.fulfill(status=200, headers=headers, body=target.read_bytes())

        context.route("**/*", handle)
        page.on("console", lambda m: v.console.append(m.text) if m.type in ("error", "warning") else None)
        page.goto(f"{ORIGIN}/{path}", wait_until="load")
        return v

    yield open_page
    for c in contexts:
        c.close()


def json_ld(page: Any) -> Any:
    return json.loads(page.locator('script[type="application/ld+json"]').text_content())
