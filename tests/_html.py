"""Reading an HTML page back in tests: the text of every element that carries ``data-field``
(the cohort dashboard marks its numbers so), and a headless Chromium to render pages with."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

#: the names Debian, Ubuntu and Chrome's packages give the browser
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class Fields(HTMLParser):
    """``{(data-field, scope): text}`` of every element carrying ``data-field``."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[tuple[str, str], str] = {}
        self.tags: set[str] = set()
        self.urls: list[str] = []
        self._open: list[tuple[str, str] | None] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]
        scope = (a.get("data-question") or a.get("data-submission") or a.get("data-cluster")
                 or a.get("data-pair") or "")
        if not scope:  # the course pages: a student's, an assignment's, or a student's on one
            scope = "/".join(v for v in (a.get("data-student"), a.get("data-assignment")) if v)
        self._open.append((a["data-field"], scope) if "data-field" in a else None)
        if tag in ("meta", "line", "rect"):  # void or empty here
            self._open.pop()

    def handle_endtag(self, tag):
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        for key in self._open:
            if key is not None:
                self.fields[key] = self.fields.get(key, "") + data


def find_chromium() -> str | None:
    """The headless-capable Chromium on PATH, or ``None``."""
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def chromium(browser: str, page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    """Run headless Chromium on ``page`` (a file) with ``args`` (``--dump-dom``,
    ``--screenshot=FILE``): a private profile, no GPU, no network, and no sandbox of its own
    (the tests run as root, where Chromium refuses its sandbox)."""
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-extensions", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
         "--proxy-server=127.0.0.1:9", "--window-size=1280,1600", *args, page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
