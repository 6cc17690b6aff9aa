"""Logging set-up: phone numbers never reach a log line in the clear."""

from __future__ import annotations

import logging
import re

# "+7 916 123-45-67" style, or the bare digits Telegram sends ("79161234567"); dates and times are left alone.
PHONE = re.compile(r"\+\d[\d\s()-]{8,16}\d|(?<!\d)\d{10,15}(?!\d)")


class MaskPhones(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = PHONE.sub(lambda m: m.group()[:3] + "***" + m.group()[-2:], message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(MaskPhones())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    logging.getLogger("alembic.runtime.plugins").setLevel(max(logging.WARNING, logging.getLogger().level))
