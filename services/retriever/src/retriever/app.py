"""Wiring: settings, the KB index, the commerce channel and the handler; plus the `load-kb` command."""

import argparse
import asyncio

import structlog
from elasticsearch import AsyncElasticsearch
from supportmesh_core.grpcutil import tracing_channel
from supportmesh_core.logging import configure_logging
from supportmesh_core.service import run_stage_service
from supportmesh_core.stage import StageHopSink

from .adapters.commerce import GrpcCommerce
from .adapters.kb_files import read_kb
from .adapters.kb_store import KbStore, LoadReport
from .config import Settings
from .domain.query import warm_up_queries
from .handlers import RetrieverHandler

log = structlog.get_logger()


async def load_kb(settings: Settings, es: AsyncElasticsearch) -> LoadReport:
    """Load the KB and help pages into settings.kb_index unless that version is already there."""
    docs = await asyncio.to_thread(read_kb, settings.kb_path, settings.help_path)
    return await KbStore(es, settings.kb_index).ensure_loaded(docs)


async def _load_command(settings: Settings) -> None:
    configure_logging(settings.service_name, settings.log_level)
    es = AsyncElasticsearch(settings.elasticsearch_url, request_timeout=60, **settings.elasticsearch_options())
    try:
        report = await load_kb(settings, es)
    finally:
        await es.close()
    state = "loaded" if report.loaded else "already up to date"
    print(f"{report.index}: {report.documents} documents {state} (version {report.version}, "
          f"{report.seconds:.1f}s)")


async def build(settings: Settings):
    """The stage's handler and a close coroutine for its adapters; scripts/bench.py --in-process builds it too."""
    es = AsyncElasticsearch(settings.elasticsearch_url, request_timeout=60, **settings.elasticsearch_options())
    store = KbStore(es, settings.kb_index)
    if settings.kb_load_on_start:
        await load_kb(settings, es)
    took = await store.warm_up(warm_up_queries(settings.top_k))
    log.info("KB searches warmed up", seconds=round(took, 2))
    channel = tracing_channel(settings.commerce_addr, settings.service_name, hop_sink=StageHopSink(),
                              token=settings.commerce_identity(), credentials=settings.commerce_credentials())
    handler = RetrieverHandler(store, GrpcCommerce(channel), settings.top_k)

    async def close() -> None:
        await channel.close()
        await es.close()

    return handler, close


def main() -> None:
    parser = argparse.ArgumentParser(prog="retriever", description=__doc__)
    parser.add_argument("command", nargs="?", choices=["serve", "load-kb"], default="serve")
    args = parser.parse_args()
    settings = Settings()
    if args.command == "load-kb":
        asyncio.run(_load_command(settings))
        return

    asyncio.run(run_stage_service(settings, settings.http_port, lambda: build(settings)))
