"""The model layer's circuit breakers: one per endpoint and model (the breaker itself lives in supportmesh_core)."""

import threading
import time
from collections.abc import Callable

from supportmesh_core.breaker import BreakerState, CircuitBreaker

__all__ = ["PROCESS_BREAKERS", "BreakerRegistry", "BreakerState", "CircuitBreaker"]


class BreakerRegistry:
    """The breakers of one process, one per (endpoint, model), shared by every client that calls it."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._breakers: dict[tuple[str, str], CircuitBreaker] = {}
        self._lock = threading.Lock()

    def get(self, endpoint: str, model: str, failure_threshold: int, cooldown_s: float) -> CircuitBreaker:
        with self._lock:
            key = (endpoint, model)
            if key not in self._breakers:
                self._breakers[key] = CircuitBreaker(failure_threshold, cooldown_s, self._clock)
            return self._breakers[key]

    def states(self) -> dict[str, str]:
        """`endpoint model` → state, for health pages and logs."""
        with self._lock:
            items = list(self._breakers.items())
        return {f"{endpoint} {model}": str(b.state) for (endpoint, model), b in items}


PROCESS_BREAKERS = BreakerRegistry()
