"""Fixtures for the response-generator tests."""

import pytest
from supportmesh_llm.testing import ScriptedOpenAIServer


@pytest.fixture
def scripted_openai():
    """The model layer's scripted OpenAI-compatible double (not a model), for the model path's contract tests."""
    server = ScriptedOpenAIServer()
    server.start()
    yield server
    server.stop()
