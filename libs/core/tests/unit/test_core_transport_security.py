"""Unit tests of the commerce callers' fail-fast settings (profile, token, TLS files) and the local tokens file."""

import os
import stat
import threading

import pytest
from pydantic import ValidationError
from supportmesh_core import local_tokens
from supportmesh_core.settings import CommerceClientSettings

pytestmark = pytest.mark.unit

VARIABLES = ("SUPPORTMESH_PROFILE", "COMMERCE_TOKEN", "COMMERCE_TLS_CA", "COMMERCE_TLS_CLIENT_CERT",
             "COMMERCE_TLS_CLIENT_KEY", "SUPPORTMESH_HOME")


@pytest.fixture
def env(monkeypatch, tmp_path):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "retriever")
    monkeypatch.setenv(local_tokens.FILE_VARIABLE, str(tmp_path / "secrets" / "tokens.env"))
    return monkeypatch


@pytest.fixture
def pem(tmp_path):
    def make(name: str) -> str:
        path = tmp_path / name
        path.write_text(f"-----BEGIN {name.upper()}-----\nAAAA\n-----END {name.upper()}-----\n")
        return str(path)
    return make


def test_production_without_a_token_fails_naming_the_variable(env):
    env.setenv("SUPPORTMESH_PROFILE", "production")
    env.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")   # the profile's other settings (README, Profiles)
    env.setenv("COMMERCE_ADDR", "commerce:50051")
    with pytest.raises(ValidationError, match="COMMERCE_TOKEN is not set: the production profile needs retriever"):
        CommerceClientSettings()
    env.setenv("COMMERCE_TOKEN", "a-token-from-the-secret-store")
    assert CommerceClientSettings().commerce_identity() == "a-token-from-the-secret-store"


def test_an_unknown_profile_is_refused(env):
    env.setenv("SUPPORTMESH_PROFILE", "prod")
    with pytest.raises(ValidationError, match="local.*production"):
        CommerceClientSettings()


def test_local_profile_without_a_token_uses_the_install_file_made_at_random(env, tmp_path):
    first = CommerceClientSettings().commerce_identity()
    path = tmp_path / "secrets" / "tokens.env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first == local_tokens.read(path)["retriever"] and len(first) == 64
    assert CommerceClientSettings().commerce_identity() == first   # made once, then reused
    assert "dev-" not in path.read_text()


@pytest.mark.parametrize("given,words", [
    ({"COMMERCE_TLS_CLIENT_CERT": "c"}, "COMMERCE_TLS_CLIENT_CERT is set but COMMERCE_TLS_CLIENT_KEY is not"),
    ({"COMMERCE_TLS_CLIENT_KEY": "k"}, "COMMERCE_TLS_CLIENT_KEY is set but COMMERCE_TLS_CLIENT_CERT is not"),
    ({"COMMERCE_TLS_CLIENT_CERT": "c", "COMMERCE_TLS_CLIENT_KEY": "k"},
     "COMMERCE_TLS_CLIENT_CERT is set but COMMERCE_TLS_CA is not"),
])
def test_tls_settings_that_do_not_go_together_fail(env, pem, given, words):
    for name, file in given.items():
        env.setenv(name, pem(file))
    with pytest.raises(ValidationError, match=words):
        CommerceClientSettings()


def test_a_missing_or_non_pem_file_fails_naming_it(env, tmp_path, pem):
    env.setenv("COMMERCE_TLS_CA", str(tmp_path / "nope.crt"))
    with pytest.raises(ValidationError, match="COMMERCE_TLS_CA=.*nope.crt: cannot read it"):
        CommerceClientSettings()
    (tmp_path / "junk.crt").write_text("not a certificate")
    env.setenv("COMMERCE_TLS_CA", str(tmp_path / "junk.crt"))
    with pytest.raises(ValidationError, match="junk.crt: not a PEM file"):
        CommerceClientSettings()
    env.setenv("COMMERCE_TLS_CA", pem("ca"))
    settings = CommerceClientSettings()
    assert settings.commerce_credentials() is not None   # TLS on with only a CA: server-authenticated TLS


def test_plaintext_is_the_default(env):
    assert CommerceClientSettings().commerce_credentials() is None


def test_concurrent_first_uses_agree_on_one_set_of_tokens(tmp_path):
    path = tmp_path / "tokens.env"
    seen: list[dict] = []
    threads = [threading.Thread(target=lambda: seen.append(local_tokens.ensure(path))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 8 and all(s == seen[0] for s in seen)
    assert set(seen[0]) == set(local_tokens.SERVICES) and len(set(seen[0].values())) == len(local_tokens.SERVICES)
    assert [p.name for p in tmp_path.iterdir()] == ["tokens.env"]   # no temp file left behind


def test_a_damaged_tokens_file_is_refused_not_regenerated(tmp_path):
    path = tmp_path / "tokens.env"
    path.write_text("COMMERCE_TOKEN_RETRIEVER=abc\n")
    with pytest.raises(ValueError, match="no token for technical-analyst"):
        local_tokens.ensure(path)
    assert path.read_text() == "COMMERCE_TOKEN_RETRIEVER=abc\n"


def test_supportmesh_home_moves_the_default_file(monkeypatch, tmp_path):
    monkeypatch.delenv(local_tokens.FILE_VARIABLE, raising=False)
    monkeypatch.setenv("SUPPORTMESH_HOME", str(tmp_path))
    assert local_tokens.default_file() == tmp_path / "secrets" / "commerce-tokens.env"
    monkeypatch.delenv("SUPPORTMESH_HOME")
    assert local_tokens.default_file() == local_tokens.DEFAULT_FILE
    assert os.fspath(local_tokens.DEFAULT_FILE).endswith(".infra/secrets/commerce-tokens.env")
