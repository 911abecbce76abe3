"""The root exception of citysense's services; each package's exceptions.py derives from it."""


class CitysenseError(Exception):
    """Root of citysense's errors. `retriable` says whether trying again later may succeed."""

    retriable: bool = False
