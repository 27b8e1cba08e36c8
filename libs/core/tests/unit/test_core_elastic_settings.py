"""Elasticsearch client settings: credentials and CA checks fail at start-up with the variable's name."""

import ssl

import certifi
import pytest
from pydantic import ValidationError
from supportmesh_core.elastic import ElasticsearchClientSettings, ElasticsearchConfigError, client_options

pytestmark = pytest.mark.unit

HTTPS = "https://es.example:9200"


def test_the_local_default_is_plain_http_without_credentials():
    assert client_options("http://127.0.0.1:9200") == {}


def test_https_without_a_ca_file_trusts_the_system_store():
    options = client_options(HTTPS, api_key="a2V5")
    context = options["ssl_context"]
    assert options["api_key"] == "a2V5" and "ca_certs" not in options
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats() == ssl.create_default_context().cert_store_stats()


def test_a_ca_file_is_the_only_trust():
    options = client_options(HTTPS, username="trace", password="pw", ca_file=certifi.where())
    assert options["basic_auth"] == ("trace", "pw")
    assert options["ssl_context"].cert_store_stats() == \
        ssl.create_default_context(cafile=certifi.where()).cert_store_stats()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"username": "trace"}, "ELASTICSEARCH_USERNAME is set but ELASTICSEARCH_PASSWORD is not"),
    ({"password": "pw"}, "ELASTICSEARCH_PASSWORD is set but ELASTICSEARCH_USERNAME is not"),
    ({"api_key": "k", "username": "u", "password": "p"}, "not both"),
    ({"ca_file": "/nonexistent/ca.crt"}, "ELASTICSEARCH_CA_FILE=/nonexistent/ca.crt: cannot read it"),
])
def test_half_set_or_contradicting_settings_are_refused(kwargs, message):
    with pytest.raises(ElasticsearchConfigError, match=message):
        client_options(HTTPS, **kwargs)


def test_a_ca_file_that_is_not_a_certificate_is_refused(tmp_path):
    bad = tmp_path / "ca.crt"
    bad.write_text("not a certificate\n")
    with pytest.raises(ElasticsearchConfigError, match="not a PEM certificate"):
        client_options(HTTPS, ca_file=bad)


@pytest.mark.parametrize("kwargs", [{"api_key": "k"}, {"username": "u", "password": "p"}, {"ca_file": certifi.where()}])
def test_credentials_or_a_ca_need_https(kwargs):
    with pytest.raises(ElasticsearchConfigError, match="not https"):
        client_options("http://127.0.0.1:9200", **kwargs)


def test_a_scheme_other_than_http_or_https_is_refused():
    with pytest.raises(ElasticsearchConfigError, match="scheme"):
        client_options("ftp://127.0.0.1:9200")


def test_settings_fail_at_start_without_printing_the_secret():
    with pytest.raises(ValidationError) as failed:
        ElasticsearchClientSettings(OTEL_SERVICE_NAME="x", ELASTICSEARCH_API_KEY="s3cr3t-key-value")
    assert "not https" in str(failed.value) and "s3cr3t-key-value" not in str(failed.value)
    settings = ElasticsearchClientSettings(OTEL_SERVICE_NAME="x", ELASTICSEARCH_URL=HTTPS,
                                           ELASTICSEARCH_API_KEY="s3cr3t-key-value")
    assert settings.elasticsearch_options()["api_key"] == "s3cr3t-key-value"
    assert "s3cr3t-key-value" not in repr(settings)
