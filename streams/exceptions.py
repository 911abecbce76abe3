"""Errors of the streams worker."""

from runtime.exceptions import CitysenseError


class StreamsError(CitysenseError):
    """Root of the streams worker's errors."""
