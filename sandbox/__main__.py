"""`python -m sandbox --port 8081`: the Bot API emulator and the playground page, to try the bot offline.

Then run the bot against it: `TELEGRAM_API_URL=http://127.0.0.1:8081 BOT_TOKEN=<the token below> python -m bot`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

from .emulator import BotApiEmulator
from .playground import Playground

DEFAULT_TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="port to listen on (default: 8081)")
    parser.add_argument(
        "--token",
        default=os.environ.get("BOT_TOKEN") or DEFAULT_TOKEN,
        help="the bot token the emulator accepts (default: $BOT_TOKEN or the README's test token)",
    )
    parser.add_argument("--username", default="stroboscope_bot", help="the bot's username")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    emu = BotApiEmulator(args.token, bot_username=args.username)
    Playground(emu)
    await emu.start(port=args.port, host=args.host)
    print(f"Playground: http://{args.host}:{emu.port}/", flush=True)
    print(f"Run the bot: TELEGRAM_API_URL={emu.base_url} BOT_TOKEN={args.token} python -m bot", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await emu.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        BotApiEmulator().add_bot(args.token)
    except ValueError as error:
        print(f"--token: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
