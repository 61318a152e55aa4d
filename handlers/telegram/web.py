"""/web: a one-time link to the web companion (and, over https, the Mini App button);
`/web đăng xuất` or its button ends every web session of the person."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    WebAppInfo,
)

from bot.services.actors import Actor
from bot.services.app import Services
from bot.services.web import sign_out_everywhere
from handlers.telegram.ui import Ui, WebCb
from handlers.texts import web_text


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_web, Command("web"), F.chat.type == "private")
    router.callback_query.register(on_sign_out, WebCb.filter(F.action == "out"))
    return router


def _buttons(ui: Ui, url: str, mini_app: str | None) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(text=ui.t("button.open_web"), url=url)]]
    if mini_app is not None:
        rows.append(
            [
                InlineKeyboardButton(
                    text=ui.t("button.open_mini_app"), web_app=WebAppInfo(url=mini_app)
                )
            ]
        )
    rows.append(
        [
            InlineKeyboardButton(
                text=ui.t("button.web_sign_out"), callback_data=WebCb(action="out").pack()
            )
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def cmd_web(
    message: Message, command: CommandObject, actor: Actor, services: Services, ui: Ui
) -> None:
    text, url = await web_text(ui, services, actor, command.args or "")
    mini_app = (
        f"{services.web_url}/tma" if (services.web_url or "").startswith("https://") else None
    )
    await message.answer(
        text,
        reply_markup=_buttons(ui, url, mini_app) if url else None,
        # The link's preview would be fetched by Telegram (harmless: a GET spends nothing).
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )


async def on_sign_out(query: CallbackQuery, actor: Actor, services: Services, ui: Ui) -> None:
    count = await sign_out_everywhere(services, actor)
    await query.answer(ui.text("web_signed_out", count=count)[:200], show_alert=True)
