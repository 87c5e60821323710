"""One logging set-up for the process; secrets never reach a log line."""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

REDACTED = "[redacted]"
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}|sk-[A-Za-z0-9_-]{16,}")
# Webhook tokens and interaction tokens travel in URL paths: discord.py logs every route at DEBUG
# (`/webhooks/<id>/<token>`, which interaction follow-ups use too, and `/interactions/<id>/<token>/callback`),
# and aiohttp's errors quote the URL.
_PATH_TOKEN = re.compile(r"(/(?:webhooks|interactions)/\d+/)[^/?#\s'\"<>]+")
# ...and in the JSON (or its Python repr) of webhook objects and interaction payloads logged as received data.
_FIELD_TOKEN = re.compile(r"""(["']token["']\s*:\s*["'])[^"']+""")


class RedactingFilter(logging.Filter):
    """Masks the configured secrets, anything shaped like a Discord token or an API key, and webhook and
    interaction tokens: in the message with its %-args, in the formatted exception and in the stack."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if secret]

    def redact(self, text: str) -> str:
        text = _TOKEN_LIKE.sub(REDACTED, text)
        text = _PATH_TOKEN.sub(rf"\1{REDACTED}", text)
        text = _FIELD_TOKEN.sub(rf"\1{REDACTED}", text)
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call is the formatter's to report, and it has no text to leak yet
            return True
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # Formatted here, as every formatter would, so that the exception's text (its args, a URL in an
            # aiohttp error) is redacted before any handler prints it.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def setup_logging(level: int, secrets: list[str], stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("discord.gateway").setLevel(max(level, logging.WARNING))
