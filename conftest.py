"""Test-wide setup: structlog writes to stderr, so doctests see only what examples print."""

import logging
import sys

import structlog

structlog.configure(
    wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    logger_factory=structlog.PrintLoggerFactory(sys.stderr),
)
