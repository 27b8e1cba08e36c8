"""Fixtures for the intent-classifier tests: one model trained per session into a temporary directory."""

import pytest
from intent_classifier import trainer
from intent_classifier.config import Settings


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    return Settings(SUPPORTMESH_MODEL_DIR=str(tmp_path_factory.mktemp("intent-model")))


@pytest.fixture(scope="session")
def trained(settings):
    """(model, metrics) of a full training run (about 10 s, so it is done once per session)."""
    return trainer.train(settings, echo=lambda _line: None)


@pytest.fixture(scope="session")
def model(trained):
    return trained[0]

