"""The HTTP side of the emulator: the aiohttp server, ``/bot{token}/{method}`` routing, file downloads and the
``{"ok": ..., "result" | "error_code", "description"}`` envelope every answer travels in."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.multipart import MultipartResponseWrapper

from .errors import ApiError, bad
from .media import MAX_UPLOAD
from .methods import Handler
from .params import ApiCall, Params, UploadedFile, decode_value
from .state import BotState, SandboxState

__all__ = ["ApiServer", "Guard", "json_response", "read_multipart"]

log = logging.getLogger("sandbox.transport")

# Runs before a method: raises ApiError to refuse the call as Telegram would, or waits (a hang, a flood wait).
Guard = Callable[[BotState, ApiCall], Awaitable[None]]


class ApiServer:
    """Serves the Bot API of every bot in ``emu`` on one port."""

    def __init__(self, emu: SandboxState, handlers: dict[str, tuple[str, Handler]]) -> None:
        self.emu = emu
        self.handlers = handlers
        self.guards: list[Guard] = []
        self.app = web.Application(client_max_size=MAX_UPLOAD + 10 * 1024 * 1024)
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        self.app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self.extra_routes: list[Callable[[web.Application], None]] = []
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.port: int | None = None
        self.host = "127.0.0.1"
        self._unfinished: set[asyncio.Future[tuple[dict[str, Any], int]]] = set()

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> None:
        for hook in self.extra_routes:
            hook(self.app)
        self._runner = web.AppRunner(self.app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, host, port)
        await self._site.start()
        server = self._site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port
        self.host = host

    async def stop(self) -> None:
        for work in list(self._unfinished):
            work.cancel()
        if self._runner:
            await self._runner.cleanup()
        self._runner = None

    # ------------------------------------------------------------------------------------------------ requests

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.method == "POST" and request.can_read_body:
            ctype = request.content_type
            if ctype.startswith("multipart/"):
                fields, files = await read_multipart(await request.multipart())
                raw.update(fields)
            elif ctype == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad("can't parse JSON encoded request") from None
                if isinstance(body, dict):
                    raw.update(body)
            else:
                raw.update(await request.post())
        return raw, files

    async def _handle_api(self, request: web.Request) -> web.Response:
        bot = self.emu.bots.get(request.match_info["token"])
        if bot is None:
            return json_response(ApiError(401, "Unauthorized").body(), 401)
        method = request.match_info["method"]
        entry = self.handlers.get(method.lower())
        if entry is None:
            self.emu.unknown_methods.append(method)
            log.warning("unknown Bot API method %s", method)
            return json_response({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        name, handler = entry
        try:
            raw, files = await self._read_params(request)
        except ApiError as e:
            return json_response(e.body(), e.code)
        except web.HTTPRequestEntityTooLarge:
            return json_response(ApiError(413, "Request Entity Too Large").body(), 413)
        params = {k: decode_value(k, v) for k, v in raw.items()}
        call = ApiCall(bot.id, name, params, files, at=time.time())
        if name == "getUpdates":
            return json_response(*await self.execute(bot, call, handler))
        # Telegram finishes what it started when the bot stops waiting: a timed-out send may still be delivered.
        work = asyncio.ensure_future(self.execute(bot, call, handler))
        self._unfinished.add(work)
        work.add_done_callback(self._unfinished.discard)
        return json_response(*await asyncio.shield(work))

    async def execute(self, bot: BotState, call: ApiCall, handler: Handler) -> tuple[dict[str, Any], int]:
        """Run one call through the guards and its method; recorded in ``emu.calls`` (or ``emu.polls``)."""
        emu = self.emu
        is_poll = call.method == "getUpdates"
        (emu.polls if is_poll else emu.calls).append(call)
        if not is_poll:
            emu._inflight += 1
        emu._touch()
        try:
            for guard in self.guards:
                await guard(bot, call)
            result = await handler(bot, Params(call.params, call.files))
            call.ok, call.result = True, result
            return {"ok": True, "result": result}, 200
        except ApiError as e:
            call.ok, call.error_code, call.description = False, e.code, e.description
            return e.body(), e.code
        finally:
            if not is_poll:
                emu._inflight -= 1
            emu._touch()

    async def run(
        self, bot: BotState, method: str, params: dict[str, Any], files: dict[str, UploadedFile] | None = None
    ) -> tuple[dict[str, Any], int]:
        """Run a method given by name with raw parameters, as if it came over HTTP (a webhook reply, a test)."""
        entry = self.handlers.get(method.lower())
        if entry is None:
            self.emu.unknown_methods.append(method)
            return {"ok": False, "error_code": 404, "description": "Not Found"}, 404
        name, handler = entry
        decoded = {k: decode_value(k, v) for k, v in params.items() if v is not None}
        return await self.execute(bot, ApiCall(bot.id, name, decoded, files or {}, at=time.time()), handler)

    async def _handle_file(self, request: web.Request) -> web.Response:
        bot = self.emu.bots.get(request.match_info["token"])
        if bot is None:
            return json_response(ApiError(401, "Unauthorized").body(), 401)
        record = self.emu.files.by_path.get((bot.id, request.match_info["path"]))
        if record is None:
            return json_response({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        self.emu._touch()
        return web.Response(body=record.data, content_type=record.mime_type or "application/octet-stream")


async def read_multipart(
    reader: MultipartReader | MultipartResponseWrapper,
) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """A multipart/form-data body: plain fields as text, file parts as uploads (also under their field name)."""
    fields: dict[str, Any] = {}
    files: dict[str, UploadedFile] = {}
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        data = await part.read(decode=True)
        if part.filename is not None:
            upload = UploadedFile(part.name, part.filename, part.headers.get("Content-Type"), bytes(data))
            files[part.name] = upload
            fields[part.name] = upload
        else:
            fields[part.name] = bytes(data).decode("utf-8", "replace")
    return fields, files


def json_response(body: dict[str, Any], status: int) -> web.Response:
    return web.Response(text=json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")
