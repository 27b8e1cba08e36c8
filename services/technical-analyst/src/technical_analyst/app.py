"""Wires the technical-analyst service: settings, the handler, and the shared stage life cycle."""

import asyncio

from supportmesh_core.service import run_stage_service

from .config import Settings
from .handlers import AnalystHandler


def main() -> None:
    settings = Settings()

    async def build():
        async def close() -> None:
            return None  # the analyst holds no connections of its own

        return AnalystHandler(settings.refund_approval_limit), close

    asyncio.run(run_stage_service(settings, settings.http_port, build))
