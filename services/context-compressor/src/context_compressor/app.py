"""Wiring: settings, the SQLite store, the tokenizer and the handler."""

import asyncio

from supportmesh_core.service import run_stage_service

from .adapters.store import SqliteConversationStore
from .adapters.tokenizer import BpeTokenizer
from .config import Settings
from .handlers import CompressorHandler


def main() -> None:
    settings = Settings()

    async def build():
        store = SqliteConversationStore(settings.database())
        handler = CompressorHandler(store, BpeTokenizer(settings.tokenizer), settings.token_budget,
                                    settings.recent_turns)

        async def close() -> None:
            store.close()

        return handler, close

    asyncio.run(run_stage_service(settings, settings.http_port, build))
