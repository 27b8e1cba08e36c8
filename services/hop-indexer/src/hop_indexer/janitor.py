"""The retention janitor: on a schedule, deletes the daily hop indices older than HOPS_RETENTION_DAYS."""

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime

import structlog

from .adapters.elastic import DocStore, StoreUnavailable
from .domain.retention import expired_indices

log = structlog.get_logger()


def _utc_today() -> date:
    return datetime.now(UTC).date()


class Janitor:
    """Sweeps once at start and then every `interval_s`; an unreachable Elasticsearch just skips a sweep."""

    def __init__(self, store: DocStore, *, prefix: str, retention_days: int, interval_s: float,
                 today: Callable[[], date] = _utc_today) -> None:
        self._store, self._prefix = store, prefix
        self._retention_days, self._interval_s = retention_days, interval_s
        self._today = today
        self._stopping = asyncio.Event()
        self.deleted: list[str] = []

    def stop(self) -> None:
        self._stopping.set()

    async def sweep(self) -> list[str]:
        """Delete the expired indices now; returns their names."""
        names = await self._store.list_indices(f"{self._prefix}-*")
        expired = expired_indices(names, self._prefix, self._today(), self._retention_days)
        for name in expired:
            await self._store.delete_index(name)
            self.deleted.append(name)
            log.info("expired hop index deleted", index=name, retention_days=self._retention_days)
        return expired

    async def run(self) -> None:
        """Sweep until `stop()`."""
        while not self._stopping.is_set():
            try:
                await self.sweep()
            except StoreUnavailable as exc:
                log.warning("retention sweep skipped; Elasticsearch unavailable", error=str(exc))
            try:
                await asyncio.wait_for(self._stopping.wait(), self._interval_s)
            except TimeoutError:
                pass
