"""Logging configuration for the command line: once, in the entry point."""

from __future__ import annotations

import logging
import os
import sys


def configure(verbose: bool = False) -> None:
    level = os.environ.get("CITYSENSE_LOG_LEVEL", "DEBUG" if verbose else "INFO").upper()
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("aiokafka", "kafka", "faust", "mode"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
