"""Unit tests of the Kafka security settings: fail-fast checks, and the same options for aiokafka and faststream."""

import pathlib
import ssl
import subprocess

import pytest
from faststream.kafka.security import parse_security
from faststream.security import SASLScram256, SASLScram512
from pydantic import ValidationError
from supportmesh_core.kafka import new_broker, new_producer
from supportmesh_core.kafka_security import KafkaSecurity, broker_security, client_options
from supportmesh_core.settings import REPO_ROOT, ServiceSettings

pytestmark = pytest.mark.unit

VARIABLES = ("KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD",
             "KAFKA_SSL_CA_FILE", "KAFKA_SSL_CERT_FILE", "KAFKA_SSL_KEY_FILE", "KAFKA_SSL_KEY_PASSWORD")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> pathlib.Path:
    """A local CA and certificates from deploy/certs.sh (openssl; no server)."""
    path = tmp_path_factory.mktemp("certs")
    subprocess.run([str(REPO_ROOT / "deploy" / "certs.sh")], check=True, timeout=60,
                   env={"PATH": "/usr/bin:/bin", "SUPPORTMESH_CERTS_DIR": str(path),
                        "SUPPORTMESH_CERT_CLIENTS": "hop-indexer"})
    return path


def scram(certs: pathlib.Path, **overrides: str) -> KafkaSecurity:
    values = {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "svc", "KAFKA_SASL_PASSWORD": "s3cret",
              "KAFKA_SSL_CA_FILE": str(certs / "ca.crt"), **overrides}
    return KafkaSecurity(**{k: v for k, v in values.items() if v is not None})


def test_plaintext_is_the_default_and_adds_nothing_but_the_protocol():
    security = KafkaSecurity()
    assert client_options(security) == {"security_protocol": "PLAINTEXT"}
    assert broker_security(security) is None


def test_sasl_ssl_options_verify_the_broker_and_carry_the_login(certs):
    options = client_options(scram(certs))
    context = options.pop("ssl_context")
    assert options == {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
                       "sasl_plain_username": "svc", "sasl_plain_password": "s3cret"}
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


@pytest.mark.parametrize(("protocol", "mechanism", "kind"), [("SASL_SSL", "SCRAM-SHA-512", SASLScram512),
                                                             ("SASL_PLAINTEXT", "SCRAM-SHA-256", SASLScram256)])
def test_faststream_gets_the_same_options_as_aiokafka(certs, protocol, mechanism, kind):
    security = scram(certs, KAFKA_SECURITY_PROTOCOL=protocol, KAFKA_SASL_MECHANISM=mechanism,
                     KAFKA_SSL_CA_FILE=None if protocol == "SASL_PLAINTEXT" else str(certs / "ca.crt"))
    faststream = broker_security(security)
    assert isinstance(faststream, kind)
    ours, theirs = client_options(security), parse_security(faststream)
    assert {k: v for k, v in theirs.items() if k != "ssl_context"} == {k: v for k, v in ours.items()
                                                                       if k != "ssl_context"}
    assert (theirs["ssl_context"] is None) == (protocol == "SASL_PLAINTEXT")


async def test_the_producer_and_the_faststream_broker_are_built_with_them(certs):
    security = scram(certs)
    producer = new_producer("127.0.0.1:1", security=security)   # never started
    assert producer.client._security_protocol == "SASL_SSL" and producer.client._sasl_plain_username == "svc"
    broker = new_broker("127.0.0.1:1", "svc", security=security)
    assert isinstance(broker.specification.security, SASLScram512)
    assert broker.specification.security.ssl_context is not None and broker.specification.security.username == "svc"


def test_names_are_read_case_insensitively(clean_env, certs):
    clean_env.setenv("KAFKA_SECURITY_PROTOCOL", "sasl_ssl")
    clean_env.setenv("KAFKA_SASL_MECHANISM", "scram-sha-512")
    clean_env.setenv("KAFKA_SASL_USERNAME", "svc")
    clean_env.setenv("KAFKA_SASL_PASSWORD", "s3cret")
    clean_env.setenv("KAFKA_SSL_CA_FILE", str(certs / "ca.crt"))
    assert KafkaSecurity().kafka_security_protocol == "SASL_SSL"


@pytest.mark.parametrize("missing", ["KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"])
def test_sasl_without_a_username_or_password_fails_naming_it(certs, missing):
    with pytest.raises(ValidationError, match=f"KAFKA_SECURITY_PROTOCOL=SASL_SSL needs {missing}"):
        scram(certs, **{missing: None})


def test_an_unknown_protocol_or_mechanism_is_refused(certs):
    with pytest.raises(ValidationError, match="PLAINTEXT.*SSL.*SASL_PLAINTEXT.*SASL_SSL"):
        KafkaSecurity(KAFKA_SECURITY_PROTOCOL="TLS")
    with pytest.raises(ValidationError, match="SCRAM-SHA-512.*SCRAM-SHA-256.*PLAIN"):
        scram(certs, KAFKA_SASL_MECHANISM="GSSAPI")


def test_a_missing_or_broken_ca_file_fails_at_start(certs, tmp_path):
    with pytest.raises(ValidationError, match=r"KAFKA_SSL_CA_FILE=.*nowhere.crt: no such file"):
        scram(certs, KAFKA_SSL_CA_FILE=str(tmp_path / "nowhere.crt"))
    junk = tmp_path / "junk.crt"
    junk.write_text("not a certificate")
    with pytest.raises(ValidationError, match="KAFKA_SSL_CA_FILE=.*junk.crt: not a readable PEM certificate"):
        scram(certs, KAFKA_SSL_CA_FILE=str(junk))


def test_a_client_certificate_needs_its_key_and_must_match_it(certs):
    with pytest.raises(ValidationError, match="KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together"):
        scram(certs, KAFKA_SSL_CERT_FILE=str(certs / "hop-indexer.crt"))
    with pytest.raises(ValidationError, match="not a usable certificate and key"):
        scram(certs, KAFKA_SSL_CERT_FILE=str(certs / "hop-indexer.crt"), KAFKA_SSL_KEY_FILE=str(certs / "server.key"))
    mutual = scram(certs, KAFKA_SSL_CERT_FILE=str(certs / "hop-indexer.crt"),
                   KAFKA_SSL_KEY_FILE=str(certs / "hop-indexer.key"))
    assert client_options(mutual)["ssl_context"] is not None


def test_empty_file_variables_count_as_unset():
    assert KafkaSecurity(KAFKA_SSL_CA_FILE="", KAFKA_SSL_CERT_FILE="", KAFKA_SSL_KEY_FILE="").kafka_ssl_ca_file is None


def test_credentials_or_certificates_without_their_protocol_are_refused(certs):
    # Settings that would be silently ignored look like security and are none.
    with pytest.raises(ValidationError, match="KAFKA_SECURITY_PROTOCOL=PLAINTEXT sends no login"):
        KafkaSecurity(KAFKA_SASL_USERNAME="svc", KAFKA_SASL_PASSWORD="s3cret")
    with pytest.raises(ValidationError, match="KAFKA_SSL_CA_FILE set but KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT"):
        scram(certs, KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT")


def test_every_service_checks_them_at_start_and_never_shows_the_password(certs):
    with pytest.raises(ValidationError, match="needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"):
        ServiceSettings(OTEL_SERVICE_NAME="retriever", KAFKA_SECURITY_PROTOCOL="SASL_SSL",
                        KAFKA_SSL_CA_FILE=str(certs / "ca.crt"))
    settings = ServiceSettings(OTEL_SERVICE_NAME="retriever", **{
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "svc", "KAFKA_SASL_PASSWORD": "s3cret",
        "KAFKA_SSL_CA_FILE": str(certs / "ca.crt")})
    assert "s3cret" not in repr(settings) and "s3cret" not in settings.describe()
    assert client_options(settings)["sasl_plain_password"] == "s3cret"
