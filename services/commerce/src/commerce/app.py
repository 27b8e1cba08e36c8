"""Wiring: opens and seeds the store, serves CommerceService over gRPC with health, and the reset command."""

import argparse
import asyncio
import sys
from collections.abc import Sequence

import structlog
from supportmesh.commerce.v1 import commerce_pb2, commerce_pb2_grpc
from supportmesh_core.chaos import FaultFlags
from supportmesh_core.grpcutil import GrpcServer
from supportmesh_core.http import HealthServer
from supportmesh_core.kafka import new_producer
from supportmesh_core.logging import configure_logging
from supportmesh_core.telemetry import setup_tracing

from .adapters.hop_sink import DeferredHopSink
from .adapters.seed_file import load_seed
from .adapters.sqlite_store import SqliteStore
from .auth import Authorizer, load_permissions
from .config import Settings
from .domain.model import to_cents
from .domain.queries import CommerceQueries
from .servicer import CommerceServicer
from .write_service import CommerceWrites

SERVICE_FULL_NAME = "supportmesh.commerce.v1.CommerceService"
RPC_NAMES = tuple(m.name for m in commerce_pb2.DESCRIPTOR.services_by_name["CommerceService"].methods)
log = structlog.get_logger()


def build_authorizer(settings: Settings) -> Authorizer:
    """Tokens and permissions from the settings; raises ValueError/OSError on a bad configuration."""
    return Authorizer(settings.token_map(), load_permissions(settings.permissions_path, RPC_NAMES),
                      bind_to_certificate=settings.mutual_tls)


def open_seeded_store(settings: Settings) -> SqliteStore:
    """Open and migrate the database, seeding it on first start; blocking, so run it off the event loop."""
    path = settings.database_path()
    store = SqliteStore.open(path)
    try:
        if not store.is_seeded():
            seed = load_seed(settings.seed_path)
            if store.seed(seed.data, str(seed.path), seed.sha256):
                log.info("store seeded", db=str(path), seed=str(seed.path), **store.counts())
    except BaseException:
        store.close()
        raise
    return store


def reset_store(settings: Settings) -> dict[str, int]:
    """Drop every table and reseed from the seed file; returns the row counts. Stop the server first."""
    seed = load_seed(settings.seed_path)  # read before dropping, so a bad seed file destroys nothing
    store = SqliteStore.open(settings.database_path())
    try:
        store.drop_all()
        store.migrate()
        store.seed(seed.data, str(seed.path), seed.sha256)
        return store.counts()
    finally:
        store.close()


async def serve(settings: Settings) -> None:
    """Serve until SIGTERM/SIGINT: health first (NOT_SERVING), then the store, then SERVING."""
    hops = DeferredHopSink()
    producer_factory = lambda: new_producer(settings.kafka_bootstrap_servers, security=settings)  # noqa: E731
    timeout = settings.kafka_connect_timeout_s
    reconnect: asyncio.Task | None = None
    if not await hops.connect(producer_factory, timeout):
        reconnect = asyncio.create_task(hops.keep_connecting(producer_factory, timeout))

    faults = FaultFlags(settings.service_name, settings.kafka_bootstrap_servers if settings.chaos_enabled else None,
                        security=settings)
    server = GrpcServer(service=settings.service_name, port=settings.grpc_port, hop_sink=hops,
                        host=settings.bind_host, faults=faults, credentials=settings.server_credentials())
    servicer = CommerceServicer(build_authorizer(settings))
    server.add(commerce_pb2_grpc.add_CommerceServiceServicer_to_server, servicer, SERVICE_FULL_NAME)
    store: SqliteStore | None = None
    writer: SqliteStore | None = None
    health = HealthServer(settings.http_port, lambda: store is not None, host=settings.bind_host)
    try:
        await server.start()
        await health.start()
        store = await asyncio.to_thread(open_seeded_store, settings)
        # Writes run in a worker thread, so they get a connection of their own; lookups keep theirs.
        writer = await asyncio.to_thread(SqliteStore.open, settings.database_path())
        servicer.attach(CommerceQueries(store),
                        CommerceWrites(writer, to_cents(settings.refund_approval_limit)))
        await server.set_serving()
        transport = "mtls" if settings.mutual_tls else "tls" if settings.tls_cert else "plaintext"
        if transport == "plaintext" and settings.profile != "local":
            # Allowed (a mesh behind its own encrypted network), but tokens then cross the network in clear.
            log.warning("commerce serves plaintext gRPC outside the local profile: set COMMERCE_TLS_CERT/KEY "
                        "(and COMMERCE_TLS_CLIENT_CA for mutual TLS)", profile=settings.profile)
        log.info("commerce serving", grpc_port=server.port, http_port=settings.http_port, transport=transport,
                 tokens="COMMERCE_TOKENS" if settings.tokens.strip() else str(settings.local_tokens_file),
                 db=str(settings.database_path()), schema_version=store.schema_version(),
                 hops_to_kafka=hops.connected)
        await server.serve_until_signalled()
    finally:
        await server.stop()
        if reconnect is not None:
            reconnect.cancel()
        await hops.close()
        await health.stop()
        for db in (writer, store):
            if db is not None:
                db.close()
        log.info("commerce stopped", hops_dropped=hops.dropped)


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m commerce` serves; `python -m commerce reset` drops and reseeds the database."""
    parser = argparse.ArgumentParser(prog="python -m commerce", description=__doc__)
    parser.add_argument("command", nargs="?", choices=["serve", "reset"], default="serve")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level)
    structlog.contextvars.bind_contextvars(service=settings.service_name)  # on every line, from every module
    if args.command == "reset":
        counts = reset_store(settings)
        log.info("store reset", db=str(settings.database_path()), **counts)
        return
    setup_tracing(settings.service_name)
    asyncio.run(serve(settings))
