"""Unit tests of the profiles: the local one keeps every default, the production one starts only with what it needs."""

import pytest
from pydantic import ValidationError
from supportmesh_core.elastic import ElasticsearchClientSettings
from supportmesh_core.settings import CommerceClientSettings, ServiceSettings

pytestmark = pytest.mark.unit


class BothClients(CommerceClientSettings, ElasticsearchClientSettings):
    """A service that calls commerce and Elasticsearch (the retriever's shape)."""


CLASSES = [ServiceSettings, CommerceClientSettings, ElasticsearchClientSettings, BothClients]
# What a deployment gives each required setting (deploy/k8s/base).
GIVEN = {"KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", "ELASTICSEARCH_URL": "http://elasticsearch:9200",
         "COMMERCE_ADDR": "commerce:50051", "COMMERCE_TOKEN": "a-token-from-the-secret-store"}


@pytest.fixture
def env(monkeypatch, tmp_path):
    """No setting of any class here in the environment but the service's name."""
    for cls in CLASSES:
        for info in cls.model_fields.values():
            if isinstance(info.validation_alias, str):
                monkeypatch.delenv(info.validation_alias, raising=False)
    monkeypatch.delenv("SUPPORTMESH_HOME", raising=False)
    monkeypatch.setenv("SUPPORTMESH_LOCAL_TOKENS_FILE", str(tmp_path / "tokens.env"))
    monkeypatch.setenv("OTEL_SERVICE_NAME", "retriever")
    return monkeypatch


def test_each_class_requires_its_own_settings_and_its_bases():
    assert list(ServiceSettings.required_outside_local()) == ["KAFKA_BOOTSTRAP_SERVERS"]
    assert list(CommerceClientSettings.required_outside_local()) == ["KAFKA_BOOTSTRAP_SERVERS", "COMMERCE_ADDR",
                                                                     "COMMERCE_TOKEN"]
    assert list(ElasticsearchClientSettings.required_outside_local()) == ["KAFKA_BOOTSTRAP_SERVERS",
                                                                          "ELASTICSEARCH_URL"]
    assert set(BothClients.required_outside_local()) == set(GIVEN)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_the_local_profile_starts_with_no_environment_on_the_defaults(env, cls):
    settings = cls()
    assert settings.profile == "local"
    assert settings.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert settings.elasticsearch_url == "http://127.0.0.1:9200" and settings.commerce_addr == "127.0.0.1:50051"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_production_names_every_missing_setting_at_once(env, cls):
    env.setenv("SUPPORTMESH_PROFILE", "production")
    with pytest.raises(ValidationError) as caught:
        cls()
    (error,) = caught.value.errors()
    lines = error["msg"].removeprefix("Value error, ").split("; ")
    assert [line.split(" ", 1)[0] for line in lines] == list(cls.required_outside_local())
    assert all(" is not set: the production profile needs " in line for line in lines)


@pytest.mark.parametrize("variable,words", [
    ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS is not set: the production profile needs the Kafka brokers "
                                "as host:port,... (only the local profile defaults it, to 127.0.0.1:9092)"),
    ("ELASTICSEARCH_URL", "ELASTICSEARCH_URL is not set: the production profile needs the Elasticsearch URL"),
    ("COMMERCE_ADDR", "COMMERCE_ADDR is not set: the production profile needs commerce's gRPC address as host:port "
                      "(only the local profile defaults it, to 127.0.0.1:50051)"),
    ("COMMERCE_TOKEN", "COMMERCE_TOKEN is not set: the production profile needs retriever's commerce service token"),
])
def test_production_with_one_setting_missing_or_empty_stops_naming_it(env, variable, words):
    env.setenv("SUPPORTMESH_PROFILE", "production")
    for name, value in GIVEN.items():
        env.setenv(name, value)
    assert BothClients().commerce_identity() == GIVEN["COMMERCE_TOKEN"]   # everything given: it starts
    for unset in (lambda: env.delenv(variable), lambda: env.setenv(variable, "  ")):
        unset()
        with pytest.raises(ValidationError) as caught:
            BothClients()
        assert words in str(caught.value)
        assert str(caught.value).count(" is not set: ") == 1   # only the missing one is named


def test_production_takes_a_value_given_even_when_it_equals_the_local_default(env):
    env.setenv("SUPPORTMESH_PROFILE", "production")
    assert ServiceSettings(KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9092").kafka_bootstrap_servers == "127.0.0.1:9092"


def test_the_error_does_not_show_the_other_values_given(env):
    env.setenv("SUPPORTMESH_PROFILE", "production")
    env.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    env.setenv("KAFKA_SASL_USERNAME", "svc")
    env.setenv("KAFKA_SASL_PASSWORD", "s3cret")
    with pytest.raises(ValidationError, match="KAFKA_BOOTSTRAP_SERVERS is not set") as caught:
        ServiceSettings()
    assert "s3cret" not in str(caught.value)
