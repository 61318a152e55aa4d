"""What Telegram handlers need to speak: the member's `Ui` (handlers/texts.py) and typed
keyboards."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Annotated

from aiogram.exceptions import TelegramRetryAfter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, Message
from pydantic import Field

from bot.core.text import split_message
from bot.services.pdf import PdfConverter, beside
from handlers.texts import Ui

__all__ = ["Ui"]  # re-exported: every Telegram handler imports it from here


async def answer_long(
    message: Message, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """``text`` in as many messages as it needs; buttons under the last one."""
    parts = split_message(text)
    for index, part in enumerate(parts):
        await message.answer(part, reply_markup=reply_markup if index == len(parts) - 1 else None)


async def answer_documents(
    message: Message, ui: Ui, pdf: PdfConverter, files: Sequence[tuple[str, bytes, str]]
) -> None:
    """DOCX files (name, bytes, caption), then each one's PDF for digital signing, made while
    the DOCX go out: a slow or failing LibreOffice never holds back or loses a DOCX. A word
    when no PDF is made here (LibreOffice not installed) or one could not be made."""
    docx = [(name, data) for name, data, _ in files]
    converting = asyncio.create_task(beside(pdf, docx))
    try:
        for name, data, caption in files:
            await message.answer_document(BufferedInputFile(data, filename=name), caption=caption)
        made = await converting
    finally:
        converting.cancel()  # a send that failed: stop the conversions too
    delivered, note, failed = made
    for doc in delivered:
        if doc.pdf is not None:
            await message.answer_document(
                BufferedInputFile(doc.pdf, filename=doc.pdf_name), caption=ui.text("pdf_caption")
            )
    if note is not None:
        await message.answer(ui.text("pdf_note", note=note.value, names=failed))


async def answer_paced(message: Message, texts: Sequence[str], *, attempts: int = 5) -> None:
    """Several messages in a row (one invite per unit): wait out Telegram's flood limit.

    Each invite code exists only in its message, so a 429 must delay it, never drop it.
    """
    for text in texts:
        for attempt in range(attempts):
            try:
                await message.answer(text)
                break
            except TelegramRetryAfter as exc:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(exc.retry_after)


def keyboard(rows: Sequence[Sequence[tuple[str, CallbackData | str]]]) -> InlineKeyboardMarkup:
    """Rows of (label, callback data or URL) into an inline keyboard."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=label, url=target)
                if isinstance(target, str)
                else InlineKeyboardButton(text=label, callback_data=target.pack())
                for label, target in row
            ]
            for row in rows
        ]
    )


# Ids in callback data fit the database's 32-bit integer columns: a forged or corrupted larger
# number makes the payload not match its filter (a "stale button" answer), never a crash.
DbId = Annotated[int, Field(ge=-2_147_483_648, le=2_147_483_647)]


class LangCb(CallbackData, prefix="lang"):
    code: str


class LinkCb(CallbackData, prefix="lnk"):
    action: str  # "new": a one-time code to link a Zalo account


class MoveCb(CallbackData, prefix="mv"):
    accept: bool


class KindCb(CallbackData, prefix="kind"):
    kind: str


class UnitCb(CallbackData, prefix="u"):
    action: str  # "invite" | "revoke" | "del" (remove the unit, after /units remove asked)
    unit_id: DbId


class MemberCb(CallbackData, prefix="m"):
    action: str  # "rm" | "rmok"
    identity_id: DbId
    unit_id: DbId
    bloc_id: DbId


class WebCb(CallbackData, prefix="web"):
    action: str
