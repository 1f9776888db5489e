"""The service's background work, one thread each, started and stopped with the web app:

- `issuance`: decides accepted issuance requests (woken by each new one, else every interval);
- `callbacks`: delivers the outbox (woken by each new callback, else when the next retry is due);
- `watcher`: follows the chain into the index, turns new surrenders into surrender requests and applies
  surrender answers recorded but not yet applied.

Stopping (SIGTERM or Ctrl-C through uvicorn, or `stop()`) lets each thread finish the step it is in: a
transaction being sent is waited for and recorded, a callback being posted is marked; nothing else starts.
A step that fails unexpectedly is logged and tried again at the next round: a worker never dies of it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .issuance import IssuanceWorker
from .outbox import Sender
from .runtime import Platform
from .surrender import SurrenderDesk

log = logging.getLogger(__name__)
#: the longest a worker sleeps before it looks again, whatever it was told
MAX_SLEEP = 5.0


class _Loop(threading.Thread):
    def __init__(self, name: str, step: Callable[[], float | None], interval: float, stopping: threading.Event) -> None:
        super().__init__(name=f"ebl-serve-{name}", daemon=True)
        self.step = step
        self.interval = interval
        self.stopping = stopping
        self.wake = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.wake.clear()
            try:
                wait = self.step()
            except Exception:
                log.exception("%s: the step failed; trying again", self.name)
                wait = self.interval
            if self.stopping.is_set():
                break
            self.wake.wait(timeout=min(self.interval if wait is None else max(wait, 0.0), MAX_SLEEP))


class Workers:
    """The three worker threads over one `Platform`."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.stopping = threading.Event()
        interval = platform.config.interval
        self.sender = Sender(platform.db, platform.config.callbacks, token_for=self._token_for)
        self._callbacks = _Loop("callbacks", self._send, interval, self.stopping)
        self.issuance = IssuanceWorker(platform, wake_callbacks=self._callbacks.wake.set)
        self.desk = SurrenderDesk(platform, wake_callbacks=self._callbacks.wake.set)
        self._issuance = _Loop("issuance", self._decide, interval, self.stopping)
        self._watcher = _Loop("watcher", self._watch, interval, self.stopping)
        self.threads = (self._issuance, self._callbacks, self._watcher)

    def _token_for(self, carrier: str) -> str | None:
        acting = self.platform.config.acting(carrier)
        return acting.callback_token() if acting else None

    def _decide(self) -> float | None:
        self.issuance.run_once(stop=self.stopping.is_set)
        return None

    def _send(self) -> float | None:
        self.sender.deliver_due(stop=self.stopping.is_set)
        due = self.sender.next_due()
        return None if due is None else due - time.time()

    def _watch(self) -> float | None:
        self.platform.sync_index()
        self.desk.scan()
        self.desk.apply_recorded()
        return None

    def wake_issuance(self) -> None:
        self._issuance.wake.set()

    def start(self) -> None:
        for thread in self.threads:
            thread.start()
        log.info("workers started: issuance, callbacks, watcher (every %g s)", self.platform.config.interval)

    def stop(self, timeout: float = 60.0) -> None:
        """Ask every worker to stop after its current step and wait for them (at most `timeout` seconds each)."""
        self.stopping.set()
        for thread in self.threads:
            thread.wake.set()
        for thread in self.threads:
            if thread.is_alive():
                thread.join(timeout)
                if thread.is_alive():
                    log.error("%s did not stop within %g s", thread.name, timeout)
        self.sender.close()
        log.info("workers stopped")
