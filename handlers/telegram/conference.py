"""/conference new without arguments: the conference set up step by step, one field a
message (like /bloc new), so a guest list may hold «;». The checks are the service's
(`check_conference_field`, `setup_conference`); only the step and the answers so far live in
the conversation state."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message

from bot.services import voting as svc
from bot.services.actors import Actor, secretariat_bloc
from bot.services.app import Services
from bot.services.outcomes import Rejected
from handlers.telegram.ui import Ui, answer_long


class ConferenceWalk(StatesGroup):
    field = State()  # data: index (the field asked), answers (the fields before it)


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    router.message.register(on_answer, StateFilter(ConferenceWalk.field), F.text)
    return router


async def start_walk(message: Message, actor: Actor, ui: Ui, state: FSMContext) -> None:
    refused = secretariat_bloc(actor)
    if isinstance(refused, Rejected):
        await message.answer(ui.refusal(refused))
        return
    await state.set_state(ConferenceWalk.field)
    await state.set_data({"index": 0, "answers": []})
    await message.answer(_ask(ui, 0))


def _ask(ui: Ui, index: int) -> str:
    return ui.text(
        "conference_new_ask",
        step=index + 1,
        total=len(svc.CONFERENCE_FIELDS),
        field=svc.CONFERENCE_FIELDS[index],
        optional=index >= svc.REQUIRED_FIELDS,
    )


async def on_answer(
    message: Message, actor: Actor, services: Services, ui: Ui, state: FSMContext
) -> None:
    text = (message.text or "").strip()
    if text.startswith("/"):
        await state.clear()
        await message.answer(ui.text("wizard_cancelled"))
        return
    data = await state.get_data()
    index, answers = int(data["index"]), [str(a) for a in data["answers"]]
    checked = await svc.check_conference_field(services, actor, index=index, text=text)
    if isinstance(checked, Rejected):
        await message.answer(ui.refusal(checked))  # the same step waits for a better answer
        return
    answers.append(checked)
    if index + 1 < len(svc.CONFERENCE_FIELDS):
        await state.update_data(index=index + 1, answers=answers)
        await message.answer(_ask(ui, index + 1))
        return
    view = await svc.setup_conference(services, actor, answers)
    if isinstance(view, Rejected):
        await message.answer(ui.refusal(view))
        return
    await state.clear()
    await answer_long(message, ui.text("conference_view", view=view))
