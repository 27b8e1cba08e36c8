"""Wires the response-generator service: settings, the model writer, the handler, and the stage life cycle."""

import asyncio

from supportmesh_core.service import run_stage_service
from supportmesh_core.stage import StageHopSink
from supportmesh_llm import ModelClient, ModelConfig

from .adapters.model import ModelWriter
from .config import Settings
from .handlers import GeneratorHandler


async def build(settings: Settings, model_config: ModelConfig):
    """The stage's handler and a close coroutine for its adapters; scripts/bench.py --in-process builds it too."""
    client, writer = None, None
    if settings.engine == "auto" and model_config.configured:
        # Model calls' hop records ride with the handled message's batch (StageHopSink).
        client = ModelClient(model_config, service=settings.service_name, hop_sink=StageHopSink())
        writer = ModelWriter(client, settings.model_max_tokens)

    async def close() -> None:
        if client is not None:
            await client.aclose()

    handler = GeneratorHandler(settings.min_confidence, settings.max_steps, writer, settings.model_budget_share)
    return handler, close


def main() -> None:
    settings = Settings()
    # Read before anything starts, so a bad OPENAI_* / LLM_* value stops the service at once.
    model_config = ModelConfig.from_env(settings.service_name)

    asyncio.run(run_stage_service(settings, settings.http_port, lambda: build(settings, model_config)))
