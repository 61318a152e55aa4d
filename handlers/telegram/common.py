"""Everyone's commands: /help, /me, /lang."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.core.models import Locale, Role
from bot.core.text import fold_diacritics
from bot.services.actors import Actor, set_locale
from bot.services.app import Services
from bot.services.linking import issue_link_code, link, offer_link
from bot.services.outcomes import Rejected
from handlers.telegram.ui import LangCb, LinkCb, Ui, keyboard
from handlers.texts import link_code_text, link_offer_text, linked_text, me_text


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
    message: Message,
    command: CommandObject,
    actor: Actor,
    services: Services,
    ui: Ui,
    state: FSMContext,
) -> None:
    """/link: a code to send from Zalo; /link CODE: the code Zalo gave — what linking would
    do, then «Đồng ý» (the offer waits in this chat's conversation storage, not a button)."""
    typed = (command.args or "").strip()
    if not typed:
        code = await issue_link_code(services, actor)
        await message.answer(link_code_text(ui, code))
        return
    offer = await offer_link(services, actor, typed)
    if isinstance(offer, Rejected):
        await message.answer(link_offer_text(ui, offer))
        return
    await state.update_data(link_offer=offer.code_id)
    await message.answer(
        link_offer_text(ui, offer),
        reply_markup=keyboard(
            [
                [
                    (ui.t("button.link_yes"), LinkCb(action="ok")),
                    (ui.t("button.cancel"), LinkCb(action="no")),
                ]
            ]
        ),
    )


async def on_link(
    query: CallbackQuery,
    callback_data: LinkCb,
    actor: Actor,
    services: Services,
    ui: Ui,
    state: FSMContext,
) -> None:
    await query.answer()
    message = query.message if isinstance(query.message, Message) else None
    if callback_data.action == "new":
        code = await issue_link_code(services, actor)
        if message is not None:
            await message.answer(link_code_text(ui, code))
        return
    data = await state.get_data()
    offered = data.get("link_offer")
    await state.update_data(link_offer=None)
    if message is not None:
        await message.edit_reply_markup(reply_markup=None)
    if callback_data.action != "ok" or not isinstance(offered, int):
        if message is not None:
            await message.answer(ui.text("link_cancelled" if offered else "stale_button"))
        return
    done = await link(services, actor, offered)
    if message is not None:
        await message.answer(linked_text(ui, done))


# What may follow /lang: the code, or the language's name in either language.
_LANGUAGES = {
    "vi": Locale.VI,
    "tieng viet": Locale.VI,
    "vietnamese": Locale.VI,
    "en": Locale.EN,
    "english": Locale.EN,
    "tieng anh": Locale.EN,
}


async def cmd_lang(
    message: Message, command: CommandObject, actor: Actor, services: Services, ui: Ui
) -> None:
    locale = _LANGUAGES.get(fold_diacritics(command.args or ""))
    if locale is not None:
        await set_locale(services, actor, locale)
        await message.answer(Ui(ui.renderer, locale).text("lang_set"))
        return
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
