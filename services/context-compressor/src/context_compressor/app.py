"""Wiring: settings, the SQLite store, the tokenizer, the product catalogue, the model layer and the handler."""

import asyncio

from supportmesh_core import topics
from supportmesh_core.handback import consumer_group
from supportmesh_core.service import SideInput, run_stage_service
from supportmesh_core.stage import StageHopSink
from supportmesh_llm import ModelClient, ModelConfig

from .adapters.catalog import product_names
from .adapters.store import SqliteConversationStore
from .adapters.summarizer import ModelSummarizer
from .adapters.tokenizer import BpeTokenizer
from .config import Settings
from .handback import AgentReplyDecoder, HandbackHandler
from .handlers import CompressorHandler


async def build(settings: Settings, model_config: ModelConfig, products: tuple[str, ...],
                store: SqliteConversationStore | None = None):
    """The stage's handler and a close coroutine for its adapters; scripts/bench.py --in-process builds it too."""
    store = store or SqliteConversationStore(settings.database())
    tokenizer = BpeTokenizer(settings.tokenizer)
    # Model calls' hop records ride with the handled message's batch (StageHopSink).
    client = ModelClient(model_config, service=settings.service_name, hop_sink=StageHopSink())
    handler = CompressorHandler(store, tokenizer, settings.token_budget, settings.recent_turns,
                                products=products, summarizer=ModelSummarizer(client, tokenizer),
                                model_budget_share=settings.model_budget_share)

    async def close() -> None:
        await client.aclose()
        store.close()

    return handler, close


def main() -> None:
    settings = Settings()
    # Read before anything starts, so a bad OPENAI_* / LLM_* value stops the service at once.
    model_config = ModelConfig.from_env(settings.service_name)
    products = product_names(settings.catalog_path)
    # The agent desk's replies are a second input of this service: the conversations they re-enter are kept here.
    store = SqliteConversationStore(settings.database())
    handback = SideInput(topics.AGENT_REPLIES, consumer_group(settings.service_name),
                         HandbackHandler(store, products), AgentReplyDecoder(store, settings.ticket_budget_ms))

    asyncio.run(run_stage_service(settings, settings.http_port, lambda: build(settings, model_config, products, store),
                                  side_inputs=[handback]))
