"""Wires the technical-analyst service: settings, the commerce channel, the handler, the stage life cycle."""

import asyncio

from supportmesh_core.grpcutil import tracing_channel
from supportmesh_core.service import run_stage_service
from supportmesh_core.stage import StageHopSink
from supportmesh_llm import ModelClient, ModelConfig

from .adapters.commerce import GrpcCommerceActions
from .adapters.lookups import GrpcCommerceLookups
from .adapters.pending import SqlitePendingStore
from .adapters.store_reads import GrpcStoreReads
from .adapters.tool_agent import ModelToolAgent
from .config import Settings
from .handlers import AnalystHandler


async def build(settings: Settings, model_config: ModelConfig):
    """The stage's handler and a close coroutine for its adapters; scripts/bench.py --in-process builds it too."""
    channel = tracing_channel(settings.commerce_addr, settings.service_name, hop_sink=StageHopSink(),
                              token=settings.commerce_identity(), credentials=settings.commerce_credentials())
    client, agent = None, None
    if settings.engine == "auto" and model_config.configured:
        # Model calls' hop records ride with the handled message's batch (StageHopSink).
        client = ModelClient(model_config, service=settings.service_name, hop_sink=StageHopSink())
        agent = ModelToolAgent(client, GrpcCommerceLookups(channel), settings.refund_approval_limit,
                               settings.model_max_rounds)

    pending = SqlitePendingStore(settings.proposals_path())

    async def close() -> None:
        if client is not None:
            await client.aclose()
        await channel.close()
        pending.close()

    handler = AnalystHandler(settings.refund_approval_limit, GrpcCommerceActions(channel), agent,
                             settings.model_budget_share, reads=GrpcStoreReads(channel), pending=pending,
                             proposal_ttl_s=settings.proposal_ttl_s)
    return handler, close


def main() -> None:
    settings = Settings()
    # Read before anything starts, so a bad OPENAI_* / LLM_* value stops the service at once.
    model_config = ModelConfig.from_env(settings.service_name)

    asyncio.run(run_stage_service(settings, settings.http_port, lambda: build(settings, model_config)))
