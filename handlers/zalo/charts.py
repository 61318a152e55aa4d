"""Charts for Zalo: its sendPhoto takes a URL, not a file. With `ZALO__FILES_URL` set, the
standings chart is written under the files directory by its SHA-256 and served at
`/zalo/charts/<sha256>.png` on the bot's webhook server (or by a reverse proxy from the same
directory); Zalo fetches it from there. Only charts live there — never a report file — and
only the newest `KEEP` are kept. Without the setting, Zalo gets the text table alone."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from aiohttp import web

CHARTS_PATH = "/zalo/charts/{name}"
KEEP = 500  # charts kept on disk (a chart is rebuilt on the next request anyway)
_NAME = re.compile(r"^[0-9a-f]{64}\.png$")


class ChartShelf:
    def __init__(self, directory: Path, base_url: str, *, keep: int = KEEP) -> None:
        self.directory = directory
        self.base_url = base_url.rstrip("/")
        self.keep = keep

    def put(self, png: bytes) -> str:
        """Store a chart (once per content) and return the URL Zalo fetches it from."""
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{hashlib.sha256(png).hexdigest()}.png"
        path = self.directory / name
        if not path.exists():
            handle, tmp = tempfile.mkstemp(dir=self.directory, suffix=".part")
            with os.fdopen(handle, "wb") as out:
                out.write(png)
            os.replace(tmp, path)
            self._prune()
        return f"{self.base_url}/{name}"

    def _prune(self) -> None:
        charts = sorted(self.directory.glob("*.png"), key=lambda p: p.stat().st_mtime)
        for old in charts[: max(0, len(charts) - self.keep)]:
            old.unlink(missing_ok=True)

    def handler(self) -> Callable[[web.Request], Coroutine[Any, Any, web.StreamResponse]]:
        """GET /zalo/charts/<sha256>.png: the chart, or 404 for any other name."""

        async def serve(request: web.Request) -> web.StreamResponse:
            name = request.match_info.get("name", "")
            path = self.directory / name
            if not _NAME.match(name) or not path.is_file():
                raise web.HTTPNotFound()
            return web.FileResponse(path, headers={"Content-Type": "image/png"})

        return serve
