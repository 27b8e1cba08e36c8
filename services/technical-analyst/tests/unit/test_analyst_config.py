"""Unit tests of the analyst's settings."""

import pytest
from pydantic import ValidationError
from technical_analyst.config import Settings

pytestmark = pytest.mark.unit


def test_defaults_and_env_override(monkeypatch):
    monkeypatch.delenv("ANALYST_REFUND_APPROVAL_LIMIT", raising=False)
    assert Settings().refund_approval_limit == 500.0 and Settings().http_port == 8104
    monkeypatch.setenv("ANALYST_REFUND_APPROVAL_LIMIT", "250")
    assert Settings().refund_approval_limit == 250.0


@pytest.mark.parametrize("bad", ["0", "-5", "lots"])
def test_bad_limit_fails_fast(monkeypatch, bad):
    monkeypatch.setenv("ANALYST_REFUND_APPROVAL_LIMIT", bad)
    with pytest.raises(ValidationError):
        Settings()


@pytest.mark.parametrize(("name", "bad"), [("ANALYST_ENGINE", "gpt"), ("ANALYST_MODEL_BUDGET_SHARE", "1.5"),
                                           ("ANALYST_MODEL_MAX_ROUNDS", "0")])
def test_bad_model_settings_fail_fast(monkeypatch, name, bad):
    monkeypatch.setenv(name, bad)
    with pytest.raises(ValidationError):
        Settings()
