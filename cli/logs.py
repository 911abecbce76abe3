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
    # Libraries log at WARNING unless CITYSENSE_LIB_LOG_LEVEL says otherwise (e.g. INFO to see Faust's recovery).
    lib_level = os.environ.get("CITYSENSE_LIB_LOG_LEVEL", "WARNING").upper()
    for noisy in ("aiokafka", "kafka", "faust", "mode"):
        logging.getLogger(noisy).setLevel(lib_level)
