"""Everyone's commands: /help, /me, /lang."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.core.models import Locale, Role
from bot.services.actors import Actor, set_locale
from bot.services.app import Services
from bot.services.linking import issue_link_code, redeem_link_code
from handlers.telegram.ui import LangCb, LinkCb, Ui, keyboard
from handlers.texts import link_code_text, linked_text, me_text


def make_router() -> Router:
    router = Router(name=__name__)
    # In groups /help is answered by the group router, after its invite-code guard.
    router.message.register(cmd_help, Command("help"), F.chat.type == "private")
    router.message.register(cmd_me, Command("me"), F.chat.type == "private")
    router.message.register(cmd_lang, Command("lang"), F.chat.type == "private")
    router.message.register(cmd_link, Command("link"), F.chat.type == "private")
    router.callback_query.register(on_link, LinkCb.filter())
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
    linkable = len(services.channels) > 1
    await message.answer(
        await me_text(ui, services, actor),
        reply_markup=keyboard([[(ui.t("button.link_account"), LinkCb(action="new"))]])
        if linkable
        else None,
    )


async def cmd_link(
    message: Message, command: CommandObject, actor: Actor, services: Services, ui: Ui
) -> None:
    """/link: a code to send from Zalo; /link CODE: the code Zalo gave, to join the two."""
    typed = (command.args or "").strip()
    if typed:
        await message.answer(linked_text(ui, await redeem_link_code(services, actor, typed)))
        return
    code = await issue_link_code(services, actor)
    await message.answer(link_code_text(ui, code))


async def on_link(query: CallbackQuery, actor: Actor, services: Services, ui: Ui) -> None:
    await query.answer()
    code = await issue_link_code(services, actor)
    if isinstance(query.message, Message):
        await query.message.answer(link_code_text(ui, code))


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
