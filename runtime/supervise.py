"""Supervision of a service's background tasks: a task that ends while the service runs (an
exception, or a loop that returned) is a failure — the service reports unhealthy and stops with a
non-zero exit, so its supervisor restarts it, instead of running on half-alive and reporting healthy."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine

logger = logging.getLogger(__name__)


class TaskFailed(Exception):
    """A supervised task ended while the service was running."""


class Supervisor:
    def __init__(self, service: str) -> None:
        self.service = service
        self.tasks: list[asyncio.Task] = []
        self.failure: str | None = None
        self.stopping = False
        self._failed = asyncio.Event()

    def spawn(self, coro: Coroutine, name: str) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        task.add_done_callback(self._ended)
        self.tasks = [t for t in self.tasks if not t.done()] + [task]
        return task

    def _ended(self, task: asyncio.Task) -> None:
        if self.stopping or task.cancelled():
            return
        exc = task.exception()
        self.failure = f"task {task.get_name()} of the {self.service} " + (
            f"died: {type(exc).__name__}: {exc}" if exc else "ended on its own")
        logger.error("%s; stopping the %s (exit status 1)", self.failure, self.service, exc_info=exc)
        self._failed.set()

    @property
    def healthy(self) -> bool:
        return self.failure is None

    async def wait(self, stop: asyncio.Event) -> None:
        """Until `stop` is set or a task fails."""
        stopped = asyncio.ensure_future(stop.wait())
        failed = asyncio.ensure_future(self._failed.wait())
        try:
            await asyncio.wait({stopped, failed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            failed.cancel()

    async def cancel_all(self) -> None:
        self.stopping = True
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def raise_if_failed(self) -> None:
        if self.failure is not None:
            raise TaskFailed(self.failure)
