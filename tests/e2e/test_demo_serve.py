"""`python -m bot demo --serve`: the finished demo's web pages stay open on 127.0.0.1 with
one-time sign-in links for a representative (Telegram and Zalo), the secretariat (and where
its console is) and an observer, and the hall screen of the demo's conference, so a newcomer
can click through; Ctrl+C ends it."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _sign_in(link: str, then: str | None = None) -> str:
    """Open the link, press «Đăng nhập»; the first page after it (or the page at `then`)."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(link) as page:
            assert page.status == 200
            csrf = _CSRF.search(await page.text())
        assert csrf is not None
        base, token = link.split("/signin/")
        data = {"csrf": csrf.group(1), "token": token}
        async with http.post(f"{base}/signin", data=data) as home:
            assert home.status == 200
            if then is None:
                return await home.text()
            assert f'href="/web{then.split("/web", 1)[1]}"' in await home.text()
        async with http.get(then) as shown:
            assert shown.status == 200
            return await shown.text()


async def test_demo_serve_prints_links_that_sign_each_role_in(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM", "ZALO", "BOT_", "WEBHOOK", "DATABASE", "REDIS", "WEB"))
    }
    env["PYTHONPATH"] = str(ROOT)
    port = _free_port()
    with (tmp_path / "stderr.log").open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "demo", "--serve", "--port", str(port),
            "--out", str(tmp_path / "out"),
            cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=err,
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            links: dict[str, str] = {}
            while True:
                line = (await asyncio.wait_for(proc.stdout.readline(), 600)).decode()
                assert line, (tmp_path / "stderr.log").read_text()[-3000:]
                if line.startswith("  ("):
                    break
                if line.startswith("  "):
                    who, link = line.strip().split(": ", 1)
                    links[who] = link
            assert all(link.startswith(f"http://127.0.0.1:{port}/web/") for link in links.values())
            assert len([link for link in links.values() if "/signin/" in link]) == 4
            home = await _sign_in(links["đại diện Sở Y tế (Telegram)"])
            assert "<h1>Sở Y tế</h1>" in home
            home = await _sign_in(links["đại diện Trường CĐSP (Zalo)"])
            assert "<h1>Trường Cao đẳng Sư phạm Điện Biên</h1>" in home
            console = links["bảng điều hành (signed in as thường trực khối)"]
            assert console == f"http://127.0.0.1:{port}/web/console"
            page = await _sign_in(links["thường trực khối"], then=console)
            assert "<h1>Bảng điều hành của thường trực</h1>" in page
            assert "Khối thi đua Văn hóa - Xã hội · 2023" in page
            # The hall screen of the demo's conference, held on 20/12/2022: presence and the
            # last result, shown although the demo's clock stopped on 31/12, after the year.
            screen = links["màn hình hội trường (hall screen, no sign-in)"]
            assert re.fullmatch(rf"http://127\.0\.0\.1:{port}/web/screen/[\w-]{{43}}", screen)
            async with aiohttp.ClientSession() as http, http.get(screen) as shown:
                assert shown.status == 200
                page = await shown.text()
            assert "<h1>Hội nghị tổng kết năm 2022</h1>" in page
            assert "Kết quả: 7. " in page
            home = await _sign_in(links["quan sát viên"])
            assert "Quan sát viên (chỉ xem)" in home
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGINT)
        rest, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0
    assert "demo: transcript written to" in rest.decode()
