"""Logging for every Plein process: readable lines, or one JSON object per line for machines.

With `PLEIN_LOG_FORMAT=json` each record carries its `extra` fields (`message_id`,
`inbound_id`, `post_id`, ...), so one grep follows a mail from SMTP to the post it became.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({key: value for key, value in vars(record).items() if key not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: int | str = logging.INFO, *, log_format: str, log_file: Path | None = None) -> None:
    """Log from `level` up to the console, or with `log_file` to that file and only warnings to the console;
    `log_format` is `PLEIN_LOG_FORMAT`."""
    formatter = (
        JsonFormatter() if log_format == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    console = logging.StreamHandler()
    handlers: list[logging.Handler] = [console]
    if log_file:
        console.setLevel(logging.WARNING)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level)
