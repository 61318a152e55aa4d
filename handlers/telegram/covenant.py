"""/covenant: next year's emulation covenant — read and sign (representatives), set its
text and date, see who has signed (secretariat)."""

from __future__ import annotations

import io

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.core.text import fold_diacritics
from bot.services import covenant as svc
from bot.services.actors import Actor
from bot.services.app import Services
from bot.services.outcomes import Reason, Rejected
from handlers.telegram.ui import DbId, Ui, answer_long, keyboard


class CovenantCb(CallbackData, prefix="cv"):
    c: DbId  # the covenant; the unit is the sender's, checked on the server
    a: str  # "show" | "sign" (asks to confirm) | "ok" (signs) | "no"
    h: str = ""  # the first 16 hex digits of the SHA-256 of the text shown

    def pack(self) -> str:
        packed = super().pack()  # "cv:3:show:" without a hash: sent as "cv:3:show"
        return packed.removesuffix(self.__separator__) if not self.h else packed

    @classmethod
    def unpack(cls, value: str) -> CovenantCb:
        if value.count(cls.__separator__) == 2:
            value += cls.__separator__
        return super().unpack(value)


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    router.message.register(cmd_covenant, Command("covenant"))
    router.callback_query.register(on_covenant, CovenantCb.filter())
    return router


MAX_FILE = 1024 * 1024


async def on_covenant_file(
    message: Message, bot: Bot, actor: Actor, services: Services, ui: Ui
) -> None:
    """A .txt or .docx sent with the caption "/covenant set [date]": its text is the covenant."""
    _, _, args = (message.caption or "").partition(" ")
    sub, _, due = args.strip().partition(" ")
    document = message.document
    if fold_diacritics(sub) not in {"set", "dat"} or document is None:
        await message.answer(ui.text("covenant_usage"))
        return
    if (document.file_size or 0) > MAX_FILE:
        await message.answer(ui.refusal(Rejected(Reason.COVENANT_FILE_UNREADABLE)))
        return
    buffer = io.BytesIO()
    await bot.download(document, destination=buffer)
    text = await svc.text_from_file(document.file_name or "", buffer.getvalue())
    if isinstance(text, Rejected):
        await message.answer(ui.refusal(text))
        return
    done = await svc.set_covenant(services, actor, text=text, due_text=due.strip().strip(";"))
    if isinstance(done, Rejected):
        await message.answer(ui.refusal(done))
        return
    await message.answer(ui.text("covenant_set", done=done))
    await services.outbox_flush()


async def cmd_covenant(
    message: Message, command: CommandObject, actor: Actor, services: Services, ui: Ui
) -> None:
    args = (command.args or "").strip()
    sub, _, rest = args.partition(" ")
    if fold_diacritics(sub) in {"set", "dat"}:
        due, sep, text = rest.partition(";")
        done = await svc.set_covenant(
            services, actor, text=text if sep else rest, due_text=due if sep else ""
        )
        if isinstance(done, Rejected):
            await message.answer(ui.refusal(done))
            return
        await message.answer(ui.text("covenant_set", done=done))
        await services.outbox_flush()
        return
    if args:
        await message.answer(ui.text("covenant_usage"))
        return
    view = await svc.covenant_view(services, actor)
    if isinstance(view, Rejected):
        await message.answer(ui.refusal(view))
        return
    await _show(message, ui, view)


def _buttons(ui: Ui, view: svc.CovenantView) -> InlineKeyboardMarkup | None:
    if view.covenant is None or view.unit is None or view.mine is not None:
        return None
    return keyboard(
        [[(ui.t("button.sign_covenant"), CovenantCb(c=view.covenant.id, a="sign", h=view.hash))]]
    )


async def _show(message: Message, ui: Ui, view: svc.CovenantView) -> None:
    markup = _buttons(ui, view)
    text = ui.text("covenant_view", view=view)
    if markup is None:
        await answer_long(message, text)
    else:
        await message.answer(text, reply_markup=markup)


async def on_covenant(
    query: CallbackQuery, callback_data: CovenantCb, actor: Actor, services: Services, ui: Ui
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if callback_data.a == "show":
        view = await svc.covenant_view(services, actor, covenant_id=callback_data.c)
        if isinstance(view, Rejected):
            await query.message.answer(ui.refusal(view))
            return
        await _show(query.message, ui, view)
        return
    if callback_data.a == "sign":
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(
            ui.text("covenant_confirm"),
            reply_markup=keyboard(
                [
                    [
                        (
                            ui.t("button.confirm_sign"),
                            CovenantCb(c=callback_data.c, a="ok", h=callback_data.h),
                        ),
                        (ui.t("button.cancel"), CovenantCb(c=callback_data.c, a="no")),
                    ]
                ]
            ),
        )
        return
    await query.message.edit_reply_markup(reply_markup=None)
    if callback_data.a != "ok":
        await query.message.answer(ui.text("covenant_not_signed"))
        return
    done = await svc.sign(services, actor, covenant_id=callback_data.c, seen_hash=callback_data.h)
    await query.message.answer(
        ui.refusal(done) if isinstance(done, Rejected) else ui.text("covenant_signed", done=done)
    )
