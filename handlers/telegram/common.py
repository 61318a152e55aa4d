"""Everyone's commands: /help, /me, /lang."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.core.models import Locale, Role
from bot.services.actors import Actor, set_locale
from bot.services.app import Services
from handlers.telegram.ui import LangCb, Ui, keyboard
from handlers.texts import me_text


def make_router() -> Router:
    router = Router(name=__name__)
    # In groups /help is answered by the group router, after its invite-code guard.
    router.message.register(cmd_help, Command("help"), F.chat.type == "private")
    router.message.register(cmd_me, Command("me"), F.chat.type == "private")
    router.message.register(cmd_lang, Command("lang"), F.chat.type == "private")
    router.callback_query.register(on_lang, LangCb.filter())
    return router


async def cmd_help(message: Message, actor: Actor, ui: Ui) -> None:
    roles = actor.roles
    await message.answer(
        ui.text(
            "help",
            in_group=message.chat.type != "private",
            secretariat=Role.SECRETARIAT in roles,
            representative=Role.REPRESENTATIVE in roles,
            observer=Role.OBSERVER in roles,
            admin=actor.is_admin,
        )
    )


async def cmd_me(message: Message, actor: Actor, services: Services, ui: Ui) -> None:
    await message.answer(await me_text(ui, services, actor))


async def cmd_lang(message: Message, ui: Ui) -> None:
    await message.answer(
        ui.text("lang_choose"),
        reply_markup=keyboard(
            [
                [
                    (ui.t("button.lang_vi"), LangCb(code="vi")),
                    (ui.t("button.lang_en"), LangCb(code="en")),
                ]
            ]
        ),
    )


async def on_lang(
    query: CallbackQuery, callback_data: LangCb, actor: Actor, services: Services, ui: Ui
) -> None:
    try:
        locale = Locale(callback_data.code)
    except ValueError:
        await query.answer(ui.text("stale_button"), show_alert=True)
        return
    await set_locale(services, actor, locale)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(Ui(ui.renderer, locale).text("lang_set"))
