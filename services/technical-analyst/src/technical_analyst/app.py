"""Wires the technical-analyst service: settings, the commerce channel, the handler, the stage life cycle."""

import asyncio

from supportmesh_core.grpcutil import tracing_channel
from supportmesh_core.kafka import StageHopSink
from supportmesh_core.service import run_stage_service

from .adapters.commerce import GrpcCommerceActions
from .config import Settings
from .handlers import AnalystHandler


def main() -> None:
    settings = Settings()

    async def build():
        channel = tracing_channel(settings.commerce_addr, settings.service_name, hop_sink=StageHopSink(),
                                  token=settings.commerce_identity())

        async def close() -> None:
            await channel.close()

        return AnalystHandler(settings.refund_approval_limit, GrpcCommerceActions(channel)), close

    asyncio.run(run_stage_service(settings, settings.http_port, build))
