"""The loaders' HTTP time as a benchmark measures it: the wall time during which at least one
request was in flight (loaders fetch a parent's children on several threads at once, so the
requests' own times would add up to more than the wall), and how many were sent."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class InFlight:
    """Counts the requests of the loaders' session (pipelines.sources.http_session) from
    `install` on, in this process; `on_response(request, response)` sees each answer."""

    def __init__(self, on_response: Callable[[Any, Any], None] | None = None) -> None:
        self.seconds = 0.0
        self.requests = 0
        self._on_response = on_response
        self._lock = threading.Lock()
        self._count = 0
        self._since = 0.0

    def install(self) -> None:
        from pipelines.sources import http_session

        send = http_session.RetryingSession.send
        clock = self

        def counted(session, request, **kwargs):
            with clock._lock:
                if clock._count == 0:
                    clock._since = time.perf_counter()
                clock._count += 1
            try:
                response = send(session, request, **kwargs)
            finally:
                with clock._lock:
                    clock._count -= 1
                    clock.requests += 1
                    if clock._count == 0:
                        clock.seconds += time.perf_counter() - clock._since
            if clock._on_response is not None:
                clock._on_response(request, response)
            return response

        http_session.RetryingSession.send = counted
