"""Running a miner's model: at most ``slots`` calls at once, each cut at ``timeout``.

A plain function runs in a daemon thread of its own. Python cannot stop a thread, so a call
that outlives its timeout keeps its slot until the function really returns: a model that hangs
makes the axon answer "busy" (429) rather than queue requests behind it, and, being a daemon
thread, never keeps the miner from exiting. (``asyncio.to_thread``, used before, freed the slot
at the timeout while the thread ran on in the loop's default pool: on 2 cores six hung calls
filled that pool, every later request waited behind them and timed out, and the process could
not exit on SIGTERM because the pool is joined at shutdown.) A coroutine function runs on the
event loop and is cancelled at the timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import AxonBusy

SyncModel = Callable[[list[Any]], list[Any]]
AsyncModel = Callable[[list[Any]], Awaitable[list[Any]]]


class ModelRunner:
    """Call ``model`` (a plain or a coroutine function) with bounded concurrency and time."""

    def __init__(self, model: SyncModel | AsyncModel, slots: int, timeout: float) -> None:
        self.model = model
        self.slots = slots
        self.timeout = timeout
        self.busy = 0
        """Calls running now, including threads still running past their timeout."""
        self._is_async = inspect.iscoroutinefunction(model)

    def check_free(self) -> None:
        """Raise :class:`AxonBusy` when every slot is taken."""
        if self.busy >= self.slots:
            raise AxonBusy(f"all {self.slots} model slots are busy")

    async def __call__(self, inputs: list[Any]) -> list[Any]:
        """The model's outputs for ``inputs``. Raises :class:`AxonBusy` (no free slot),
        ``TimeoutError`` (no answer within ``timeout``) or whatever the model raised."""
        self.check_free()
        self.busy += 1
        if self._is_async:
            try:
                return await asyncio.wait_for(self.model(inputs), self.timeout)  # type: ignore[arg-type]
            finally:
                self.busy -= 1
        return await asyncio.wait_for(self._in_thread(inputs), self.timeout)

    def _in_thread(self, inputs: list[Any]) -> asyncio.Future[list[Any]]:
        """Start the call in a daemon thread (``busy`` already counts it); the slot is freed
        when the function returns, whether or not anyone still waits for it."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Any]] = loop.create_future()

        def finish(result: Any, error: BaseException | None) -> None:
            self.busy -= 1
            if future.done():  # the caller gave up (timeout) or went away
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        def work() -> None:
            result: Any = None
            error: BaseException | None = None
            try:
                result = self.model(inputs)
            except Exception as e:  # noqa: BLE001 - handed to the caller, who logs it
                error = e
            except BaseException as e:  # noqa: BLE001 - (SystemExit in a model) the same
                error = RuntimeError(f"the model raised {type(e).__name__}")
            finally:
                # (RuntimeError: the loop closed while the model ran, nobody to tell)
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(finish, result, error)

        try:
            threading.Thread(target=work, name="axon-model", daemon=True).start()
        except BaseException:
            self.busy -= 1
            raise
        return future
