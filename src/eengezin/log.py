"""eengezin's loggers: structlog in front, the standard library's ``logging`` behind.

A library never configures logging for its host. Every logger here writes through the
stdlib logger of the same name (``eengezin``, ``eengezin.store``, …), so nothing is
printed unless the host configured logging, and a host routes the records wherever its
own logging goes. The event name is the record's message; its key-value pairs travel in
the record's ``extra`` (``record.__dict__``), ready for structlog's ``ProcessorFormatter``
or any JSON formatter. No log line carries a payload value: only ids, event names,
rule ids, states and counts.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog


def get_logger(name: str) -> Any:
    """A structlog logger that writes to the stdlib logger ``name`` (lazily bound)."""
    return structlog.wrap_logger(
        logging.getLogger(name),
        processors=[structlog.stdlib.filter_by_level, structlog.stdlib.render_to_log_kwargs],
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
