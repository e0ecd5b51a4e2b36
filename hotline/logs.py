"""Logging set-up; called only by entry points."""
from __future__ import annotations

import logging

_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_logging(level: str = "INFO") -> None:
    """Send logs to stderr in one line per record; quieten chatty libraries."""
    logging.basicConfig(level=level, format=_FORMAT)
    # The transport logs every retry with a traceback; failures that matter surface as exceptions anyway.
    logging.getLogger("elastic_transport").setLevel(logging.ERROR)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
