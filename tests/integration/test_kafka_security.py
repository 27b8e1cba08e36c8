"""Kafka with SASL/SCRAM over TLS and ACLs (a secured broker of its own): a stage works, wrong clients are refused."""

import asyncio
import io
import json
import os
import pathlib
import secrets
import socket
import subprocess
import time

import pytest
from aiokafka.errors import TopicAuthorizationFailedError
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.outcomes_pb2 import Reply, Response
from supportmesh.v1.ticket_pb2 import Ticket
from supportmesh_cli.main import run_async
from supportmesh_core import topics
from supportmesh_core.kafka import StageRunner, ensure_topics, new_producer
from supportmesh_core.kafka_security import KafkaSecurity, KafkaSecurityError, new_consumer, start_client
from supportmesh_core.settings import REPO_ROOT, ServiceSettings
from supportmesh_core.stage import Respond

pytestmark = pytest.mark.integration

INFRA = REPO_ROOT / "deploy" / "infra.sh"
CERTS = REPO_ROOT / "deploy" / "certs.sh"
USER = "supportmesh-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SecuredKafka:
    """Where the fixture's broker listens, its CA, and the service user's credentials."""

    def __init__(self, bootstrap: str, ca_file: pathlib.Path, password: str, home: pathlib.Path) -> None:
        self.bootstrap, self.ca_file, self.password, self.home = bootstrap, ca_file, password, home
        self.before_grants = ""   # how a producer of the service user was refused before kafka-provision

    def env(self, **overrides: str) -> dict[str, str]:
        """The environment variables a service would be given to reach this broker."""
        values = {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                  "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_USERNAME": USER,
                  "KAFKA_SASL_PASSWORD": self.password, "KAFKA_SSL_CA_FILE": str(self.ca_file)}
        values.update(overrides)
        return {k: v for k, v in values.items() if v}

    def security(self, **overrides: str) -> KafkaSecurity:
        return KafkaSecurity(**self.env(**overrides))


@pytest.fixture(scope="session")
def secured_kafka(tmp_path_factory) -> SecuredKafka:
    """A KRaft broker started by deploy/infra.sh with KAFKA_SECURITY=sasl_ssl, beside (never instead of) the suite's."""
    home = tmp_path_factory.mktemp("kafka-sasl-ssl")
    certs = home / "certs"
    port, controller, chaos = _free_port(), _free_port(), _free_port()
    password = secrets.token_urlsafe(18)
    env = {**os.environ, "SUPPORTMESH_HOME": str(home), "SUPPORTMESH_CERTS_DIR": str(certs),
           "KAFKA_SECURITY": "sasl_ssl", "KAFKA_SASL_USERNAME": USER, "KAFKA_SASL_PASSWORD": password,
           "KAFKA_PORT": str(port), "KAFKA_CONTROLLER_PORT": str(controller), "KAFKA_CHAOS_PORT": str(chaos),
           "KAFKA_CHAOS_ADVERTISED": f"127.0.0.1:{chaos}"}
    subprocess.run([str(CERTS)], env=env, check=True, timeout=60)
    try:
        subprocess.run([str(INFRA), "start", "kafka"], env=env, check=True, timeout=240)
        kafka = SecuredKafka(f"127.0.0.1:{port}", certs / "ca.crt", password, home)
        # The authorizer denies the service user everything until the admin grants it the mesh's topics.
        kafka.before_grants = str(asyncio.run(_refusal(kafka.bootstrap, kafka.security()))[0])
        with pytest.MonkeyPatch.context() as patch:
            for name, value in kafka.env(KAFKA_SASL_USERNAME="", KAFKA_SASL_PASSWORD="").items():
                patch.setenv(name, value)
            out = io.StringIO()
            code = asyncio.run(run_async(["kafka-provision", "--bootstrap", kafka.bootstrap, "--user", USER,
                                          "--admin-password-file", str(home / "secrets" / "kafka-admin")], out=out))
        assert code == 0 and "User:supportmesh-test may use topics stage.*" in out.getvalue()
        yield kafka
    finally:
        subprocess.run([str(INFRA), "stop", "kafka"], env=env, check=False, timeout=120)


def test_the_broker_config_has_no_plaintext_client_listener(secured_kafka):
    config = (secured_kafka.home / "conf" / "kafka" / "server.properties").read_text()
    protocols = next(line for line in config.splitlines() if line.startswith("listener.security.protocol.map="))
    assert protocols == "listener.security.protocol.map=SECURE:SASL_SSL,CONTROLLER:SSL,CHAOS:SASL_SSL"
    assert "allow.everyone.if.no.acl.found=false" in config.splitlines()
    # The file holds the broker's own SCRAM password: only its owner reads it.
    assert (secured_kafka.home / "conf" / "kafka" / "server.properties").stat().st_mode & 0o077 == 0


async def test_a_stage_answers_a_ticket_over_scram_and_tls(secured_kafka, unique):
    security = secured_kafka.security()
    source = f"stage.test-secured-{unique}"   # under a prefix the service user was granted
    await ensure_topics(secured_kafka.bootstrap, [source, *topics.all_topics()], partitions=1, security=security)
    # The service reads its settings as it would at start-up: from the environment's names.
    settings = ServiceSettings(OTEL_SERVICE_NAME=f"test-secured-{unique}", **secured_kafka.env())

    async def handler(env, hop):
        return Respond(env, Response(reply=Reply(text=f"answer for {env.ticket.ticket_id}")))

    ticket = f"T-{unique}"
    producer = new_producer(secured_kafka.bootstrap, security=security)
    await start_client(producer, secured_kafka.bootstrap, security)
    try:
        await producer.send_and_wait(source, Envelope(ticket=Ticket(
            ticket_id=ticket, conversation_id=f"C-{unique}", body="where is my order?"),
            received_unix_ms=1).SerializeToString(), key=b"k")
    finally:
        await producer.stop()

    runner = StageRunner(settings, handler, input_topic=source)
    await runner.start()
    task = asyncio.create_task(runner.run())
    try:
        async with asyncio.timeout(30):
            while runner.handled < 1:
                await asyncio.sleep(0.1)
    finally:
        runner.stop()
        await task
        await runner.close()

    answers = await _read(secured_kafka, topics.RESPONSES,
                          lambda r: dict(r.headers).get("ticket-id") == ticket.encode())
    assert [json.loads(a.value)["reply"]["text"] for a in answers] == [f"answer for {ticket}"]


async def _read(secured_kafka: SecuredKafka, topic: str, wanted) -> list:
    """The records of `topic` that `wanted` accepts, read from the beginning over SASL_SSL, once there are any."""
    security = secured_kafka.security()
    consumer = new_consumer(secured_kafka.bootstrap, topic, security=security, auto_offset_reset="earliest")
    await start_client(consumer, secured_kafka.bootstrap, security)
    found: list = []
    try:
        async with asyncio.timeout(15):
            while not found:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    found += [r for r in records if wanted(r)]
    finally:
        await consumer.stop()
    return found


async def _refusal(bootstrap: str, security: KafkaSecurity) -> tuple[KafkaSecurityError, float]:
    started = time.monotonic()
    producer = new_producer(bootstrap, security=security, request_timeout_ms=10_000)
    with pytest.raises(KafkaSecurityError) as refused:
        await start_client(producer, bootstrap, security)
    await producer.stop()
    return refused.value, time.monotonic() - started


async def test_a_wrong_password_is_refused_at_once_with_the_reason(secured_kafka):
    error, took = await _refusal(secured_kafka.bootstrap, secured_kafka.security(KAFKA_SASL_PASSWORD="not-it"))
    assert "refused the login of SASL_SSL as 'supportmesh-test' (SCRAM-SHA-512)" in str(error)
    assert "invalid credentials" in str(error) and "not-it" not in str(error)
    assert took < 10   # an answer, not a hang until some timeout


async def test_a_stage_with_a_wrong_password_stops_at_start_instead_of_retrying(secured_kafka, unique):
    settings = ServiceSettings(OTEL_SERVICE_NAME=f"test-badpw-{unique}", **secured_kafka.env(KAFKA_SASL_PASSWORD="x"))
    runner = StageRunner(settings, lambda env, hop: None, input_topic=f"stage.test-badpw-{unique}")
    started = time.monotonic()
    with pytest.raises(KafkaSecurityError, match="refused the login"):
        await runner.start()
    # The start-up loop waits up to 120 s for a broker that is away; a refused login is not waited on.
    assert time.monotonic() - started < 10
    await runner.close()


def test_before_its_grants_the_service_user_is_told_to_get_them(secured_kafka):
    assert "denies SASL_SSL as 'supportmesh-test' (SCRAM-SHA-512)" in secured_kafka.before_grants
    assert "supportmesh kafka-provision" in secured_kafka.before_grants


async def test_the_service_user_may_use_only_the_mesh_topics(secured_kafka, unique):
    security = secured_kafka.security()
    with pytest.raises(KafkaSecurityError, match=f"does not let .*'supportmesh-test'.* create other.{unique}"):
        await ensure_topics(secured_kafka.bootstrap, [f"other.{unique}"], security=security)
    producer = new_producer(secured_kafka.bootstrap, security=security, request_timeout_ms=10_000)
    await start_client(producer, secured_kafka.bootstrap, security)
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send_and_wait(f"other.{unique}", b"not for you")
        await producer.send_and_wait(f"tickets.test-{unique}", b"fine")   # auto-created: the prefix is granted
    finally:
        await producer.stop()


async def test_a_plaintext_client_on_the_tls_port_is_told_to_use_tls(secured_kafka):
    error, _ = await _refusal(secured_kafka.bootstrap, KafkaSecurity(KAFKA_SECURITY_PROTOCOL="PLAINTEXT"))
    assert "speaks TLS but KAFKA_SECURITY_PROTOCOL=PLAINTEXT" in str(error)


async def test_tls_without_a_login_is_refused(secured_kafka):
    error, _ = await _refusal(secured_kafka.bootstrap, secured_kafka.security(
        KAFKA_SECURITY_PROTOCOL="SSL", KAFKA_SASL_USERNAME="", KAFKA_SASL_PASSWORD=""))
    assert "its listener wants SASL" in str(error)


@pytest.fixture
def other_ca(tmp_path) -> pathlib.Path:
    """A CA of another install: it signed nothing the broker presents."""
    subprocess.run([str(CERTS)], env={**os.environ, "SUPPORTMESH_CERTS_DIR": str(tmp_path / "other")},
                   check=True, timeout=60)
    return tmp_path / "other" / "ca.crt"


async def test_a_client_not_trusting_the_ca_is_refused(secured_kafka, other_ca):
    error, _ = await _refusal(secured_kafka.bootstrap, secured_kafka.security(KAFKA_SSL_CA_FILE=str(other_ca)))
    assert "presented a certificate this client does not trust" in str(error)


async def test_the_cli_reports_a_refused_login_in_one_line(secured_kafka, monkeypatch, capsys):
    for name, value in secured_kafka.env(KAFKA_SASL_PASSWORD="wrong-password").items():
        monkeypatch.setenv(name, value)
    code = await run_async(["publish", "--bootstrap", secured_kafka.bootstrap, "--ticket-id", "T-cli-refused",
                            "--body", "hello"], out=io.StringIO())
    assert code != 0
    err = capsys.readouterr().err
    assert "supportmesh publish: Kafka at" in err and "refused the login" in err and "wrong-password" not in err


async def test_the_cli_publishes_over_scram_and_tls(secured_kafka, monkeypatch, unique):
    for name, value in secured_kafka.env().items():
        monkeypatch.setenv(name, value)
    security = secured_kafka.security()
    await ensure_topics(secured_kafka.bootstrap, [topics.INBOUND], security=security)
    ticket = f"T-cli-{unique}"
    out = io.StringIO()
    assert await run_async(["publish", "--bootstrap", secured_kafka.bootstrap, "--ticket-id", ticket,
                            "--conversation-id", f"C-{unique}", "--body", "hello"], out=out) == 0
    found = await _read(secured_kafka, topics.INBOUND, lambda r: json.loads(r.value)["ticket_id"] == ticket)
    assert [r.key for r in found] == [f"C-{unique}".encode()]
