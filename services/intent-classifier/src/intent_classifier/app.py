"""Wiring: `train` builds the model artifact; `serve` (the default) runs the stage on tickets.inbound."""

import argparse
import asyncio

import yaml
from supportmesh_core.service import run_stage_service
from supportmesh_core.stage import StageHopSink
from supportmesh_core.topics import STAGES
from supportmesh_intent.classifier import Classifier
from supportmesh_llm import ModelClient, ModelConfig

from . import trainer
from .adapters.llm_refiner import ModelClassifier
from .config import Settings
from .domain.limits import Limits, Rate
from .domain.workflows import Workflows, parse_workflows
from .handlers import ClassifierHandler, IntakeLimits, TicketDecoder


def load_workflows(settings: Settings) -> Workflows:
    """Parse and validate the workflow file against the mesh's stage names."""
    with settings.workflows_path.open(encoding="utf-8") as fh:
        return parse_workflows(yaml.safe_load(fh), STAGES)


async def build(settings: Settings, workflows: Workflows, model_config: ModelConfig):
    """The stage's handler and a close coroutine for its adapters; scripts/bench.py --in-process builds it too."""
    model, meta = trainer.ensure_model(settings)
    workflows.check_intents(model.labels)
    products = meta.get("products", ())
    classifier = Classifier(model, products)
    client = None
    refiner = None
    if settings.engine == "auto" and model_config.configured:
        # Model calls' hop records ride with the handled message's batch (StageHopSink).
        client = ModelClient(model_config, service=settings.service_name, hop_sink=StageHopSink())
        refiner = ModelClassifier(client, model.categories, products)
    handler = ClassifierHandler(classifier, workflows, settings.min_confidence, refiner,
                                settings.model_budget_share)

    async def close() -> None:
        if client is not None:
            await client.aclose()

    return handler, close


def intake_limits(settings: Settings) -> IntakeLimits | None:
    """The intake's limits from the settings, or None when they are switched off."""
    if not settings.limits_enabled:
        return None
    limits = Limits(Rate(settings.customer_rate_per_min / 60, settings.customer_burst),
                    Rate(settings.channel_rate_per_s, settings.channel_burst),
                    Rate(settings.intake_rate_per_s, settings.intake_burst),
                    settings.limits_max_tracked, settings.exempt_identities)
    return IntakeLimits(limits, settings.held_lane_size, settings.held_lane_concurrency, settings.held_rate_per_s)


def main() -> None:
    parser = argparse.ArgumentParser(prog="intent_classifier", description=__doc__)
    parser.add_argument("command", nargs="?", choices=("serve", "train"), default="serve")
    args = parser.parse_args()
    settings = Settings()
    if args.command == "train":
        trainer.train(settings)
        return

    workflows = load_workflows(settings)  # before training, so a bad file fails in milliseconds
    # Read before anything starts, so a bad OPENAI_* / LLM_* value stops the service at once.
    model_config = ModelConfig.from_env(settings.service_name)

    asyncio.run(
        run_stage_service(
            settings, settings.http_port, lambda: build(settings, workflows, model_config),
            decoder=TicketDecoder(settings.ticket_budget_ms), admission=intake_limits(settings)
        )
    )
