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
        "⚠️ Bot gặp lỗi khi xử lý yêu cầu này; không có thay đổi nào được lưu. Vui lòng thử lại "
        "sau ít phút, hoặc báo thường trực khối nếu lỗi lặp lại."
    ]
    async with services.db.uow() as uow:
        assert await uow.blocs.all() == []
    service: object = blocs.create_bloc  # only the handler's reference was patched
    assert service is not broken
