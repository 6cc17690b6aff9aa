"""The offline playground: a web chat with the bot through the emulator, for people trying it without Telegram.

The page (``static/playground.html``) talks JSON to routes added to the emulator's own web app:

- ``GET  /playground/api/state``: the bot and the simulated people;
- ``POST /playground/api/users``: a person (``id``, ``first_name``, ``last_name``, ``language_code``, ``phone``);
- ``GET  /playground/api/chats/{user_id}?version=V&wait=S``: the chat as it is now; with ``version``, waits up to
  ``S`` seconds (long polling) until it differs;
- ``POST /playground/api/chats/{user_id}/{action}``: what a person does: ``send`` (text), ``press`` (a reply
  button), ``click`` (an inline button: ``message_id``, ``data``), ``contact`` (own, or ``phone`` and ``user_id``
  for someone else's), ``photo`` / ``document`` (multipart ``file``), ``pay`` (``message_id``);
- ``GET  /playground/api/files/{file_id}``: a photo or a document; ``GET /favicon.ico``: the tab's icon.

Errors are ``{"error": "..."}`` with status 400 (a person can't do that) or 404 (no such person or file).
"""

from __future__ import annotations

import functools
import io
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from PIL import Image, ImageDraw

from .emulator import BotApiEmulator, StoredMessage
from .users import SandboxError, SimulatedUser

__all__ = ["Playground"]

STATIC = Path(__file__).parent / "static"
LONG_POLL_MAX = 30.0
LANGUAGES = frozenset({"en", "ru", "de", "fr", "es", "it", "uk", "kk", "be"})

Action = Callable[[SimulatedUser, web.Request], Awaitable[dict[str, Any]]]


class Playground:
    """Adds the page and its JSON API to an emulator (before ``emu.start()``)."""

    def __init__(self, emu: BotApiEmulator) -> None:
        self.emu = emu
        self._actions: dict[str, Action] = {
            "send": self._send,
            "press": self._press,
            "click": self._click,
            "contact": self._contact,
            "photo": self._photo,
            "document": self._document,
            "pay": self._pay,
        }
        emu._extra_routes.append(self._routes)

    def _routes(self, app: web.Application) -> None:
        app.router.add_get("/", self._page)
        app.router.add_get("/favicon.ico", self._favicon)
        app.router.add_static("/playground/static/", STATIC, show_index=False)
        app.router.add_get("/playground/api/state", self._state)
        app.router.add_post("/playground/api/users", self._create_user)
        app.router.add_get("/playground/api/chats/{user_id}", self._chat)
        app.router.add_post("/playground/api/chats/{user_id}/{action}", self._act)
        app.router.add_get("/playground/api/files/{file_id}", self._file)

    # ------------------------------------------------------------------------------------------------ reading

    async def _page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "playground.html", headers={"Cache-Control": "no-store"})

    async def _favicon(self, request: web.Request) -> web.Response:
        return web.Response(body=_favicon(), content_type="image/x-icon", headers={"Cache-Control": "max-age=86400"})

    async def _state(self, request: web.Request) -> web.Response:
        bot = self.emu.bot
        about = {"id": bot.id, "username": bot.username, "first_name": bot.first_name, "polling": bot.polling > 0}
        return web.json_response({"bot": about, "users": [_person_json(person) for person in self.emu.users()]})

    async def _create_user(self, request: web.Request) -> web.Response:
        try:
            body = await _json_body(request)
        except ValueError as error:
            return _error(str(error))
        try:
            user_id = int(body.get("id") or 0)
        except (TypeError, ValueError):
            return _error("id must be a number")
        first_name = str(body.get("first_name") or "").strip()
        language = str(body.get("language_code") or "").strip().lower() or None
        phone = str(body.get("phone") or "").strip() or None
        if not 1 <= user_id < 2**52:
            return _error("id must be a positive number")
        if not 1 <= len(first_name) <= 64:
            return _error("first_name must be 1 to 64 characters")
        if language is not None and language not in LANGUAGES:
            return _error(f"language_code must be one of {', '.join(sorted(LANGUAGES))}")
        if phone is not None and not phone.lstrip("+").replace(" ", "").replace("-", "").isdigit():
            return _error("phone must be digits, e.g. +79161234567")
        if any(person.id == user_id for person in self.emu.users()):
            return _error(f"user {user_id} exists already")
        last_name = str(body.get("last_name") or "").strip()[:64] or None
        person = self.emu.user(user_id, first_name, last_name, language_code=language, phone=phone)
        return web.json_response(_person_json(person), status=201)

    async def _chat(self, request: web.Request) -> web.Response:
        person = self._person(request)
        wanted = request.query.get("version")
        try:
            wait = min(max(float(request.query.get("wait", "0")), 0.0), LONG_POLL_MAX)
        except ValueError:
            return _error("wait must be a number of seconds")
        deadline = time.monotonic() + wait
        while wanted is not None and self._version(person) == wanted:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await self.emu._activity.wait(remaining)
        return web.json_response(self._chat_json(person))

    async def _file(self, request: web.Request) -> web.StreamResponse:
        record = self.emu.files.get(request.match_info["file_id"])
        if record is None:
            raise web.HTTPNotFound(text='{"error": "no such file"}', content_type="application/json")
        headers = {}
        if record.file_name:
            headers["Content-Disposition"] = f'inline; filename="{record.file_name.replace(chr(34), "")}"'
        return web.Response(
            body=record.data, content_type=record.mime_type or "application/octet-stream", headers=headers
        )

    def _person(self, request: web.Request) -> SimulatedUser:
        raw = request.match_info["user_id"]
        person = next((p for p in self.emu.users() if str(p.id) == raw), None)
        if person is None:
            raise web.HTTPNotFound(text='{"error": "no such user"}', content_type="application/json")
        return person

    def _version(self, person: SimulatedUser) -> str:
        chat = self.emu.bot.chats.get(person.id)
        sent = chat.next_message_id if chat else 0
        return f"{sent}.{len(person.events)}.{len(person.callback_answers)}.{len(person.payments)}"

    def _chat_json(self, person: SimulatedUser) -> dict[str, Any]:
        chat = self.emu.bot.chats.get(person.id)
        messages = [_message_json(stored) for stored in chat.history() if not stored.deleted] if chat else []
        return {
            "version": self._version(person),
            "user": _person_json(person),
            "messages": messages,
            "keyboard": person._keyboard,
        }

    # ------------------------------------------------------------------------------------------------ acting

    async def _act(self, request: web.Request) -> web.Response:
        person = self._person(request)
        action = self._actions.get(request.match_info["action"])
        if action is None:
            return _error(f"unknown action; one of {', '.join(self._actions)}", 404)
        try:
            result = await action(person, request)
        except SandboxError as error:
            return _error(str(error))
        except (KeyError, TypeError, ValueError) as error:
            return _error(f"bad request: {error}")
        return web.json_response(result | {"chat": self._chat_json(person)})

    async def _send(self, person: SimulatedUser, request: web.Request) -> dict[str, Any]:
        text = str((await _json_body(request))["text"])
        if len(text) > 4096:
            raise SandboxError("a message is at most 4096 characters")
        await person.send(text)
        return {}

    async def _press(self, person: SimulatedUser, request: web.Request) -> dict[str, Any]:
        await person.press(str((await _json_body(request))["text"]))
        return {}

    async def _click(self, person: SimulatedUser, request: web.Request) -> dict[str, Any]:
        body = await _json_body(request)
        answer = await person.click(int(body["message_id"]), data=str(body["data"]), timeout=5.0)
        if answer is None:
            return {"notice": "The bot did not answer the button press."}
        return {"answer": {"text": answer.text, "show_alert": answer.show_alert, "url": answer.url}}

    async def _contact(self, person: SimulatedUser, request: web.Request) -> dict[str, Any]:
        body = await _json_body(request)
        phone = str(body.get("phone") or "").strip() or None
        if phone is None:
            await person.share_contact()
            return {}
        owner = body.get("user_id")
        await person.share_contact(
            phone=phone,
            user_id=int(owner) if owner not in (None, "") else None,
            first_name=str(body.get("first_name") or "") or None,
        )
        return {}

    async def _photo(self, person: SimulatedUser, request: web.Request) -> dict[str, Any]:
        data, _, _, caption = await _upload(request)
        await person.send_photo(data, caption)
        return {}

    async def _document(self, person: SimulatedUser, request: web.Request) -> dict[str, Any]:
        data, name, mime, caption = await _upload(request)
        await person.send_document(data, name or "file", mime, caption)
        return {}

    async def _pay(self, person: SimulatedUser, request: web.Request) -> dict[str, Any]:
        outcome = await person.pay(int((await _json_body(request))["message_id"]))
        return {"payment": {"status": outcome.status, "error_message": outcome.error_message}}


# ---------------------------------------------------------------------------------------------------- JSON shapes


def _person_json(person: SimulatedUser) -> dict[str, Any]:
    return {
        "id": person.id,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "language_code": person.language_code,
        "phone": person.phone,
    }


def _message_json(stored: StoredMessage) -> dict[str, Any]:
    """A message as the page draws it: text and entities (drawn as DOM nodes, never as HTML), media as links."""
    data = stored.data
    item: dict[str, Any] = {
        "message_id": stored.message_id,
        "outgoing": stored.outgoing,
        "date": data.get("date"),
        "edited": "edit_date" in data,
        "protected": bool(data.get("has_protected_content")),
        "text": data.get("text") or data.get("caption") or "",
        "entities": data.get("entities") or data.get("caption_entities") or [],
    }
    if data.get("photo"):
        item["photo"] = f"/playground/api/files/{data['photo'][-1]['file_id']}"
    if data.get("document"):
        document = data["document"]
        item["document"] = {
            "name": document.get("file_name") or "file",
            "url": f"/playground/api/files/{document['file_id']}",
        }
    if data.get("contact"):
        item["contact"] = {key: data["contact"].get(key) for key in ("phone_number", "first_name", "user_id")}
    if data.get("invoice"):
        invoice = data["invoice"]
        item["invoice"] = {
            "title": invoice.get("title"),
            "description": invoice.get("description"),
            "currency": invoice.get("currency"),
            "total_amount": invoice.get("total_amount"),
            "paid": bool(stored.invoice and stored.invoice.paid_charge_id),
        }
    if data.get("successful_payment"):
        payment = data["successful_payment"]
        item["payment"] = {"currency": payment["currency"], "total_amount": payment["total_amount"]}
    markup = stored.reply_markup or {}
    if markup.get("inline_keyboard"):
        item["inline_keyboard"] = [
            [{key: button[key] for key in ("text", "callback_data", "url", "pay") if key in button} for button in row]
            for row in markup["inline_keyboard"]
        ]
    return item


# ---------------------------------------------------------------------------------------------------- helpers


@functools.cache
def _favicon() -> bytes:
    """A strobe-blue dot in a white ring, drawn once: the tab gets an icon instead of a 404."""
    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((1, 1, 30, 30), fill=(51, 144, 236, 255))
    draw.ellipse((9, 9, 22, 22), fill=(255, 255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="ICO", sizes=[(16, 16), (32, 32)])
    return out.getvalue()


def _error(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ValueError("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


async def _upload(request: web.Request) -> tuple[bytes, str | None, str | None, str | None]:
    """The multipart ``file`` (and an optional ``caption``)."""
    if not request.content_type.startswith("multipart/"):
        raise ValueError("send the file as multipart/form-data")
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        raise ValueError("no file in the form")
    caption = str(form.get("caption") or "").strip() or None
    return upload.file.read(), upload.filename, upload.content_type, caption
