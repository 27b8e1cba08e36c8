"""Fixtures for the model layer's tests: the scripted OpenAI-compatible double (supportmesh_llm.testing)."""

import pytest
from supportmesh_llm.testing import ScriptedOpenAIServer


@pytest.fixture
def scripted_openai():
    server = ScriptedOpenAIServer()
    server.start()
    yield server
    server.stop()
