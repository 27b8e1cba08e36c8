"""Wires hop-indexer: settings, logging, tracing, Elasticsearch, the faststream edge and /healthz, /readyz."""

import asyncio
import signal

from supportmesh_core.http import HealthServer
from supportmesh_core.logging import configure_logging
from supportmesh_core.telemetry import setup_tracing

from .adapters.elastic import ElasticDocStore
from .config import TEMPLATE_PATTERN, Settings
from .indexer import HopIndexer
from .janitor import Janitor


async def serve(settings: Settings) -> None:
    """Run until SIGTERM/SIGINT; the batch in hand is finished (or left uncommitted) before exit."""
    log = configure_logging(settings.service_name, settings.log_level)
    setup_tracing(settings.service_name)
    store = ElasticDocStore(settings.elasticsearch_url, TEMPLATE_PATTERN, settings.es_timeout_s,
                            **settings.elasticsearch_options())
    indexer = HopIndexer(settings, store)
    janitor = Janitor(store, prefix=settings.index_prefix, retention_days=settings.retention_days,
                      interval_s=settings.janitor_interval_s)
    health = HealthServer(settings.http_port, indexer.is_ready, host=settings.http_host)
    await health.start()
    loop = asyncio.get_running_loop()

    def stop() -> None:
        indexer.stop()
        janitor.stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)  # one handler per signal: a second call would replace the first
    sweeping = asyncio.create_task(janitor.run())
    try:
        await indexer.start()
        await indexer.run()
    finally:
        log.info("stopping", indexed=indexer.indexed, dead_lettered=indexer.dead_lettered)
        janitor.stop()
        await sweeping
        await indexer.close()
        await health.stop()


def main() -> None:
    asyncio.run(serve(Settings()))
