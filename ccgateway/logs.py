"""The controller's log lines: plain text for a terminal (the default), or one JSON object
per line for a log system (`log_format = "json"`).

A JSON line has `time` (ISO 8601, UTC, milliseconds), `level`, `logger`, `message`, the
`exception` (its traceback) when there is one, and `call_id`, `agent_id`, `queue_id`,
`campaign_id` when known: given on the log call (`extra=`) or named by the dispatcher for
what it is handling (services/log_context.py). uvicorn's lines (its server and access
logs) take the same format.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Literal

from uvicorn.config import LOGGING_CONFIG

from ccgateway.services import log_context

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines inside are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(log_context.ids())
        for name in log_context.IDS:  # given on the call itself: it knows best
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str, log_format: LogFormat = "text") -> None:
    """The root logger's one handler (stderr) in the chosen format."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
        logging.captureWarnings(True)  # a Python warning is a log line too, not raw text
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)


def uvicorn_log_config(log_format: LogFormat) -> dict[str, Any] | None:
    """uvicorn's logging: its own (coloured text) for text; for JSON none of its own, so
    its loggers hand their records to the root's JSON handler."""
    return LOGGING_CONFIG if log_format == "text" else None
