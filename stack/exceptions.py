"""Errors of the local stack; each message names the service, its port and its log file."""


class StackError(Exception):
    """Root of the local stack's errors."""


class InstallError(StackError):
    """A prerequisite (package, jar, extension) is missing and could not be installed."""


class ServiceStartError(StackError):
    """A service did not start or did not answer in time."""

    def __init__(self, service: str, endpoint: str, log_file: str, cause: str) -> None:
        self.service = service
        self.endpoint = endpoint
        self.log_file = log_file
        super().__init__(
            f"{service} did not come up on {endpoint}: {cause}. "
            f"Look at its log file {log_file}; fix the cause, then run `citysense stack up` again "
            f"(or `citysense stack down` to stop what was started)."
        )
