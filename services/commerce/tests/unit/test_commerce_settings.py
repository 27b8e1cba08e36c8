"""Unit tests of commerce's fail-fast settings: no built-in token outside the local profile, TLS files that fit."""

import pytest
from commerce.app import build_authorizer
from commerce.config import Settings
from pydantic import ValidationError
from supportmesh_core import local_tokens

pytestmark = pytest.mark.unit

VARIABLES = ("SUPPORTMESH_PROFILE", "COMMERCE_TOKENS", "COMMERCE_TLS_CERT", "COMMERCE_TLS_KEY",
             "COMMERCE_TLS_CLIENT_CA", "SUPPORTMESH_HOME", "OTEL_SERVICE_NAME")


@pytest.fixture
def env(monkeypatch, tmp_path):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(local_tokens.FILE_VARIABLE, str(tmp_path / "tokens.env"))
    return monkeypatch


@pytest.fixture
def pem(tmp_path):
    def make(name: str) -> str:
        path = tmp_path / name
        path.write_text("-----BEGIN X-----\nAAAA\n-----END X-----\n")
        return str(path)
    return make


def test_production_without_tokens_is_a_start_up_error(env):
    env.setenv("SUPPORTMESH_PROFILE", "production")
    env.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")   # the profile's other setting (README, Profiles)
    with pytest.raises(ValidationError, match="COMMERCE_TOKENS is not set: the production profile"):
        Settings()
    env.setenv("COMMERCE_TOKENS", "retriever=r-secret,ops=o-secret")
    assert Settings().token_map() == {"retriever": "r-secret", "ops": "o-secret"}


def test_local_profile_without_tokens_uses_random_local_ones_the_callers_share(env, tmp_path):
    tokens = Settings().token_map()
    assert tokens == local_tokens.read(tmp_path / "tokens.env")
    assert set(tokens) == set(local_tokens.SERVICES) and not any(t.startswith("dev-") for t in tokens.values())


def test_no_token_literal_is_left_in_the_auth_module():
    import commerce.auth
    assert not hasattr(commerce.auth, "DEV_TOKENS")


@pytest.mark.parametrize("given,words", [
    ({"COMMERCE_TLS_CERT": "s.crt"}, "COMMERCE_TLS_CERT is set but COMMERCE_TLS_KEY is not"),
    ({"COMMERCE_TLS_KEY": "s.key"}, "COMMERCE_TLS_KEY is set but COMMERCE_TLS_CERT is not"),
    ({"COMMERCE_TLS_CLIENT_CA": "ca.crt"}, "COMMERCE_TLS_CLIENT_CA is set but COMMERCE_TLS_CERT is not"),
])
def test_tls_settings_that_do_not_go_together_fail(env, pem, given, words):
    for name, file in given.items():
        env.setenv(name, pem(file))
    with pytest.raises(ValidationError, match=words):
        Settings()


def test_a_missing_key_file_fails_naming_it(env, pem, tmp_path):
    env.setenv("COMMERCE_TLS_CERT", pem("s.crt"))
    env.setenv("COMMERCE_TLS_KEY", str(tmp_path / "gone.key"))
    with pytest.raises(ValidationError, match="COMMERCE_TLS_KEY=.*gone.key: cannot read it"):
        Settings()


def test_mutual_tls_binds_tokens_to_certificates_and_plain_tls_does_not(env, pem):
    env.setenv("COMMERCE_TOKENS", "retriever=r-secret")
    env.setenv("COMMERCE_TLS_CERT", pem("s.crt"))
    env.setenv("COMMERCE_TLS_KEY", pem("s.key"))
    token = [("x-service-token", "r-secret")]
    assert not Settings().mutual_tls
    assert build_authorizer(Settings()).caller(token, "GetOrder", peer_name=None) == "retriever"
    env.setenv("COMMERCE_TLS_CLIENT_CA", pem("ca.crt"))
    assert Settings().mutual_tls
    with pytest.raises(Exception, match="no client certificate"):
        build_authorizer(Settings()).caller(token, "GetOrder", peer_name=None)
