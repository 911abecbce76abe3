"""Errors of storage."""

from runtime.exceptions import CitysenseError


class StorageError(CitysenseError):
    """Root of storage's errors."""


class MigrationError(StorageError):
    """A migration failed or a recorded one was changed after it was applied."""


class SeedError(StorageError):
    """The registry cannot be written: a device's area is unknown."""
