"""The deployment guide, followed: nginx runs with the server block printed in docs/deploy.md
(only its certificate, ports and paths swapped for the test's), in front of `run --workers 2`
on PostgreSQL and Redis configured as the guide says. Telegram's webhook arrives through it
over https, a representative and the secretariat sign in through it (their cookies are
`Secure`: https only), the console answers, the hall screen's event stream passes a cast on
at once (not buffered), and what the guide keeps private stays so (/healthz from outside,
any other path). Under CI a missing nginx fails the run; elsewhere the test is skipped."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import os
import re
import shutil
import signal
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bot.fakes.telegram import FakeTelegram, FakeUser
from tests.conftest import IN_CI
from tests.e2e.test_faults import _answer, _ballot_id, _world
from tests.e2e.test_run import ROOT, SECRETARY, _free_port, fake
from tests.e2e.test_workers import _start

__all__ = ["fake"]

GUIDE = ROOT / "docs" / "deploy.md"
REP = FakeUser(2101, "Nguyễn Văn", "Thành")
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def guide_server_block() -> str:
    """The nginx block of the guide's "Behind a reverse proxy" section, as printed."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("## Behind a reverse proxy", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```nginx\n(.*?)```", section, re.S)
    assert found is not None, "the guide's reverse proxy section has no nginx block"
    return found.group(1)


def _swap(block: str, old: str, new: str) -> str:
    assert old in block, f"the guide's nginx block no longer has {old!r}"
    return block.replace(old, new)


def nginx_conf(tmp: Path, *, listen: int, bot: int, cert: Path, key: Path) -> Path:
    block = guide_server_block()
    block = _swap(block, "listen 443 ssl;", f"listen 127.0.0.1:{listen} ssl;")
    block = _swap(block, "http://127.0.0.1:8080", f"http://127.0.0.1:{bot}")
    block = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};", block)
    block = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", block)
    temp = "\n".join(
        f"    {kind}_temp_path {tmp / kind};" for kind in ("client_body", "proxy", "fastcgi")
    )
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"daemon off;\nworker_processes 1;\npid {tmp / 'nginx.pid'};\n"
        f"error_log {tmp / 'error.log'} warn;\n"
        + ("user root;\n" if _root() else "")
        + "events { worker_connections 256; }\n"
        f"http {{\n    access_log off;\n{temp}\n"
        f"    uwsgi_temp_path {tmp / 'uwsgi'};\n    scgi_temp_path {tmp / 'scgi'};\n"
        f"{block}}}\n",
        encoding="utf-8",
    )
    return conf


def _root() -> bool:
    return os.geteuid() == 0


def self_signed(tmp: Path) -> tuple[Path, Path, ssl.SSLContext]:
    """A certificate for 127.0.0.1, and a client context that trusts exactly it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path, ssl.create_default_context(cafile=str(cert_path))


@pytest.fixture
def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if found is None:
        message = "nginx is not installed: apt-get install nginx (.ci/run installs it)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


@pytest.fixture
async def nginx(
    nginx_binary: str, tmp_path: Path
) -> AsyncIterator[tuple[int, int, ssl.SSLContext]]:
    """nginx with the guide's block: (its https port, the bot's port behind it, a context
    trusting its certificate)."""
    listen, bot = _free_port(), _free_port()
    cert, key, context = self_signed(tmp_path)
    conf = nginx_conf(tmp_path, listen=listen, bot=bot, cert=cert, key=key)
    check = await asyncio.create_subprocess_exec(
        nginx_binary, "-t", "-q", "-c", str(conf), "-e", str(tmp_path / "error.log"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await check.communicate()
    assert check.returncode == 0, out.decode()
    proc = await asyncio.create_subprocess_exec(
        nginx_binary, "-c", str(conf), "-e", str(tmp_path / "error.log"),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield listen, bot, context
    finally:
        proc.send_signal(signal.SIGQUIT)
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def _sign_in(http: aiohttp.ClientSession, link: str, *, secure: bool = True) -> str:
    """Signed in by a one-time link; `secure`: the session cookie only travels over https."""
    async with http.get(link) as page:
        assert page.status == 200, await page.text()
        csrf = _CSRF.search(await page.text())
    assert csrf is not None
    base, token = link.split("/signin/")
    async with http.post(f"{base}/signin", data={"csrf": csrf.group(1), "token": token}) as done:
        assert done.status == 200, await done.text()
        cookie = done.history[0].headers.get("Set-Cookie", "") if done.history else ""
        cookie = cookie or done.headers.get("Set-Cookie", "")
        assert ("Secure" in cookie) is secure, cookie
        return await done.text()


async def _link(
    fake: FakeTelegram, user: FakeUser, text: str, pattern: str, wanted: str = "https://"
) -> str:
    reply = await _answer(fake, user, text, wanted)
    found = re.search(pattern, reply)
    assert found is not None, reply
    return found.group(0)


async def test_the_guides_nginx_in_front_of_two_workers(
    fake: FakeTelegram,
    nginx: tuple[int, int, ssl.SSLContext],
    tmp_path: Path,
    pg_database: str,
    redis_url: str,
) -> None:
    listen, bot_port, context = nginx
    public = f"https://127.0.0.1:{listen}"
    fake.webhook_ssl = context
    proc, log = await _start(
        fake,
        tmp_path,
        pg_database,
        redis_url,
        bot_port,
        WEBHOOK__URL=f"{public}/tg/webhook",
        WEB__URL=f"{public}/web",
        WEB__BEHIND_PROXY="true",
    )
    try:
        assert await fake.wait_webhook_set(timeout=60) == f"{public}/tg/webhook"
        # Telegram's updates reach the bot through nginx (the guide's webhook location).
        await _world(fake, [REP])

        signin = rf"{re.escape(public)}/web/signin/[A-Za-z0-9_-]{{43}}"
        # `unsafe`: aiohttp's jar keeps no cookie of an IP address otherwise (browsers do).
        async with aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), connector=aiohttp.TCPConnector(ssl=context)
        ) as rep:
            home = await _sign_in(rep, await _link(fake, REP, "/web", signin))
            assert "Nguyễn Văn Thành" in home
        async with aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), connector=aiohttp.TCPConnector(ssl=context)
        ) as desk:
            await _sign_in(desk, await _link(fake, SECRETARY, "/web", signin))
            async with desk.get(f"{public}/web/console") as console:
                assert console.status == 200
                assert "Bảng điều hành của thường trực" in await console.text()

            screen = await _link(
                fake, SECRETARY, "/conference screen", rf"{re.escape(public)}/web/screen/\S+"
            )
            async with desk.get(screen) as page:
                assert page.status == 200
                assert "Hội nghị tổng kết năm 2026" in await page.text()
            # The event stream through nginx: a cast in chat arrives as it happens.
            async with desk.get(f"{screen}/events") as stream:
                assert stream.status == 200
                assert await asyncio.wait_for(stream.content.readline(), 10) == b"retry: 3000\n"
                ballot = await _ballot_id(pg_database)
                await fake.tap(REP, fake.messages_to(REP.id)[-1], f"vt:{ballot}:ok:0")
                lines: list[bytes] = []
                while not any(line.startswith(b"data: ") for line in lines):
                    lines.append(await asyncio.wait_for(stream.content.readline(), 15))
                assert b'"kind":"cast"' in lines[-1]

            # What the guide keeps off the internet.
            async with desk.get(f"{public}/healthz") as health:
                assert health.status == 403
            async with desk.get(f"{public}/") as other:
                assert other.status == 404
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 60)
    assert proc.returncode == 0, log.read_text(encoding="utf-8")[-3000:]
