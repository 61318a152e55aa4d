"""A failing use case still gets the user a clear message, and nothing is half-saved."""

from __future__ import annotations

import pytest

from bot.services import blocs
from bot.services.app import Services
from tests.handlers.conftest import SECRETARY, Harness


async def test_crash_in_a_service_answers_the_user(
    tg: Harness, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr("handlers.telegram.bloc.create_bloc", broken)
    replies = await tg.say(SECRETARY, "/bloc new Khối A; Khối; 2024; KA")
    assert [r.text for r in replies] == [
        "⚠️ Bot gặp lỗi khi xử lý yêu cầu này nên thao tác có thể chưa hoàn tất. Hãy kiểm tra lại "
        "(ví dụ bằng /me) rồi thử lại sau ít phút; nếu lỗi lặp lại, hãy báo thường trực khối."
    ]
    async with services.db.uow() as uow:
        assert await uow.blocs.all() == []
    service: object = blocs.create_bloc  # only the handler's reference was patched
    assert service is not broken
