"""The anonymous chat: "Ask the seller" opens a conversation about a ticket; the asker's next texts go to the
seller under a header naming the ticket, with contacts masked; the seller answers by replying to a relayed message
or by picking the conversation from /chats; either side closes it or blocks the other. Neither ever sees who the
other is: the bot delivers every message itself."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from db.models import ConversationStatus, User
from db.repo import Repo
from db.repositories.relay import ClosedConversation
from handlers.talk.callbacks import CONVERSATION_KEY, TalkAction, TalkCD, TalkInput
from handlers.talk.keyboards import chats_keyboard, conversation_keyboard
from handlers.talk.views import chats_text, relayed_text, sent_text, writing_prompt
from services import relay
from services.clock import Clock
from services.errors import DomainError
from services.relay import FloodLimit

ENDED = ("chat-closed", "chat-not-yours", "chat-blocked")  # refusals after which the writing state is left


async def _start_writing(message: Message, state: FSMContext, talk: relay.Talk) -> None:
    await state.set_state(TalkInput.writing)
    await state.update_data({CONVERSATION_KEY: talk.conversation.id})
    language = get_i18n().current_locale
    await message.answer(
        writing_prompt(talk.ticket, talk.side, language),
        reply_markup=conversation_keyboard(talk.conversation.id, language, reply=False),
    )


async def ask(
    callback: CallbackQuery, callback_data: TalkCD, repo: Repo, clock: Clock, state: FSMContext, user: User
) -> None:
    conversation = await relay.open_conversation(repo, clock.now(), user, callback_data.id)
    await callback.answer()
    if isinstance(callback.message, Message):
        await _start_writing(callback.message, state, await relay.talk(repo, user, conversation.id))


async def pick(callback: CallbackQuery, callback_data: TalkCD, repo: Repo, state: FSMContext, user: User) -> None:
    talk = await relay.talk(repo, user, callback_data.id)
    if talk.conversation.status != ConversationStatus.OPEN:
        raise DomainError("chat-closed")
    await callback.answer()
    if isinstance(callback.message, Message):
        await _start_writing(callback.message, state, talk)


async def _relay(
    message: Message, bot: Bot, repo: Repo, clock: Clock, user: User, flood: FloodLimit, conversation_id: int
) -> None:
    now = clock.now()
    relayed = await relay.relay(repo, now, user, conversation_id, message.text or "", flood)
    markup = conversation_keyboard(conversation_id, relayed.recipient_language, reply=True)
    try:
        sent = await bot.send_message(relayed.recipient_chat_id, relayed_text(relayed), reply_markup=markup)
    except TelegramAPIError:
        await message.answer(_("talk-not-delivered"))
        return
    await relay.remember_delivery(repo, now, conversation_id, relayed.recipient_chat_id, sent.message_id)
    await message.answer(sent_text(relayed))


async def relayed_reply(message: Message, repo: Repo, user: User | None) -> bool | dict[str, Any]:
    """A filter: the message replies to one the bot relayed to this user; gives the conversation's id."""
    if user is None or message.reply_to_message is None:
        return False
    conversation_id = await relay.reply_target(repo, user, message.reply_to_message.message_id)
    return False if conversation_id is None else {"conversation_id": conversation_id}


async def reply(
    message: Message, bot: Bot, repo: Repo, clock: Clock, user: User, chat_flood: FloodLimit, conversation_id: int
) -> None:
    await _relay(message, bot, repo, clock, user, chat_flood, conversation_id)


async def write(
    message: Message, bot: Bot, repo: Repo, clock: Clock, state: FSMContext, user: User, chat_flood: FloodLimit
) -> None:
    conversation_id = int((await state.get_data()).get(CONVERSATION_KEY, 0))
    try:
        await _relay(message, bot, repo, clock, user, chat_flood, conversation_id)
    except DomainError as error:
        if error.code in ENDED:
            await state.set_state(None)
        raise


async def not_text(message: Message) -> None:
    await message.answer(_("talk-text-only"))


async def list_chats(message: Message, repo: Repo, state: FSMContext, user: User) -> None:
    if await state.get_state() == TalkInput.writing:
        await state.set_state(None)
    lines = await relay.chats(repo, user)
    if not lines:
        await message.answer(_("talk-chats-empty"))
        return
    text, shown = chats_text(lines, get_i18n().current_locale)
    writable = [
        (number, line.conversation.id)
        for number, line in enumerate(lines[:shown], start=1)
        if line.conversation.status == ConversationStatus.OPEN
    ]
    await message.answer(text, reply_markup=chats_keyboard(writable, _("talk-write")))


async def _closed(
    callback: CallbackQuery, state: FSMContext, talk: relay.Talk, closed: ClosedConversation | None, done_key: str,
) -> None:  # fmt: skip
    if (await state.get_data()).get(CONVERSATION_KEY) == talk.conversation.id:
        await state.set_state(None)
    if closed is None:
        await callback.answer(_("talk-already-closed"), show_alert=True)
        return
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(_(done_key))  # the partner hears it through the outbox (services.relay)


async def close(
    callback: CallbackQuery, callback_data: TalkCD, repo: Repo, clock: Clock, state: FSMContext, user: User,
) -> None:  # fmt: skip
    talk = await relay.talk(repo, user, callback_data.id)
    closed = await relay.close(repo, clock.now(), user, callback_data.id)
    await _closed(callback, state, talk, closed, "talk-closed-by-you")


async def block(
    callback: CallbackQuery, callback_data: TalkCD, repo: Repo, clock: Clock, state: FSMContext, user: User,
) -> None:  # fmt: skip
    talk = await relay.talk(repo, user, callback_data.id)
    closed = await relay.block(repo, clock.now(), user, callback_data.id)
    if closed is None:  # blocked in a conversation closed already: nothing to tell the partner
        await callback.answer(_("talk-blocked"), show_alert=True)
        return
    await _closed(callback, state, talk, closed, "talk-blocked")


def create_router() -> Router:
    """A fresh router with the chat's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.register(ask, TalkCD.filter(F.action == TalkAction.ASK))
    router.callback_query.register(pick, TalkCD.filter(F.action == TalkAction.WRITE))
    router.callback_query.register(close, TalkCD.filter(F.action == TalkAction.CLOSE))
    router.callback_query.register(block, TalkCD.filter(F.action == TalkAction.BLOCK))
    router.message.register(list_chats, Command("chats"))
    router.message.register(reply, F.text, ~F.text.startswith("/"), relayed_reply)
    router.message.register(write, TalkInput.writing, F.text, ~F.text.startswith("/"))
    router.message.register(not_text, TalkInput.writing, ~F.text)
    return router
