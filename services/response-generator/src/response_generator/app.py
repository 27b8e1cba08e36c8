"""Wires the response-generator service: settings, the handler, and the shared stage life cycle."""

import asyncio

from supportmesh_core.service import run_stage_service

from .config import Settings
from .handlers import GeneratorHandler


def main() -> None:
    settings = Settings()

    async def build():
        async def close() -> None:
            return None  # the local engine holds no connections

        return GeneratorHandler(settings.min_confidence, settings.max_steps), close

    asyncio.run(run_stage_service(settings, settings.http_port, build))
