"""How every Kafka client of the project connects: TLS and SASL settings, the client options, clear refusals.

One place builds the security options (`client_options` for aiokafka, `broker_security` for faststream),
and every producer, consumer and admin client of libs, services, the CLI and scripts takes them from here,
so a deployment switches the whole mesh to SASL/SCRAM over TLS with environment variables alone. PLAINTEXT
stays the default for the local run. aiokafka reports any failed start as "Unable to bootstrap", the same
words as for a broker that is down; `start_client` asks the broker once more to name the real reason (a
refused login, an untrusted certificate, a listener that wants TLS) and raises it as `KafkaSecurityError`,
which start-up retry loops do not retry: waiting never fixes a wrong password.
"""

import asyncio
import pathlib
import ssl
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.conn import create_conn
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
    UnsupportedSaslMechanismError,
)
from aiokafka.protocol.admin import CreateAclsRequest
from aiokafka.protocol.metadata import MetadataRequest
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Protocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
Mechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]
_FASTSTREAM_SASL = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256, "PLAIN": SASLPlaintext}


class KafkaSecurityError(Exception):
    """The broker refused this client for a reason of configuration (credentials, certificates, protocol).

    Deliberately not a KafkaError: the loops that wait for a broker to come back must not wait on this.
    """


class KafkaSecurity(BaseSettings):
    """How to reach Kafka securely, from KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_* and KAFKA_SSL_*; checked at start."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    kafka_security_protocol: Protocol = Field("PLAINTEXT", validation_alias="KAFKA_SECURITY_PROTOCOL")
    kafka_sasl_mechanism: Mechanism = Field("SCRAM-SHA-512", validation_alias="KAFKA_SASL_MECHANISM")
    kafka_sasl_username: str = Field("", validation_alias="KAFKA_SASL_USERNAME")
    kafka_sasl_password: SecretStr = Field(SecretStr(""), validation_alias="KAFKA_SASL_PASSWORD")
    # Unset with TLS on: the system's trust store (a broker with a public certificate).
    kafka_ssl_ca_file: pathlib.Path | None = Field(None, validation_alias="KAFKA_SSL_CA_FILE")
    # A client certificate, for a broker that wants mutual TLS (ssl.client.auth=required).
    kafka_ssl_cert_file: pathlib.Path | None = Field(None, validation_alias="KAFKA_SSL_CERT_FILE")
    kafka_ssl_key_file: pathlib.Path | None = Field(None, validation_alias="KAFKA_SSL_KEY_FILE")
    kafka_ssl_key_password: SecretStr | None = Field(None, validation_alias="KAFKA_SSL_KEY_PASSWORD")

    @field_validator("kafka_security_protocol", "kafka_sasl_mechanism", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("kafka_ssl_ca_file", "kafka_ssl_cert_file", "kafka_ssl_key_file", "kafka_ssl_key_password",
                     mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value   # `KAFKA_SSL_CA_FILE=` in a shell or an env file clears it

    @model_validator(mode="after")
    def _consistent(self) -> "KafkaSecurity":
        protocol = self.kafka_security_protocol
        if self.uses_sasl:
            missing = [name for name, value in (("KAFKA_SASL_USERNAME", self.kafka_sasl_username),
                                                ("KAFKA_SASL_PASSWORD", self.kafka_sasl_password.get_secret_value()))
                       if not value]
            if missing:
                raise ValueError(f"KAFKA_SECURITY_PROTOCOL={protocol} needs {' and '.join(missing)}")
        elif self.kafka_sasl_username or self.kafka_sasl_password.get_secret_value():
            # Credentials that would be silently ignored look like security and are none.
            raise ValueError(f"KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD are set but KAFKA_SECURITY_PROTOCOL={protocol} "
                             "sends no login: use SASL_SSL (or SASL_PLAINTEXT)")
        files = {"KAFKA_SSL_CA_FILE": self.kafka_ssl_ca_file, "KAFKA_SSL_CERT_FILE": self.kafka_ssl_cert_file,
                 "KAFKA_SSL_KEY_FILE": self.kafka_ssl_key_file}
        if not self.uses_tls:
            given = [name for name, path in files.items() if path is not None]
            if given:
                raise ValueError(f"{', '.join(given)} set but KAFKA_SECURITY_PROTOCOL={protocol} does not use TLS: "
                                 "use SSL or SASL_SSL")
            return self
        if (self.kafka_ssl_cert_file is None) != (self.kafka_ssl_key_file is None):
            raise ValueError("KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together: set both or neither")
        for name, path in files.items():
            if path is not None and not path.is_file():
                raise ValueError(f"{name}={path}: no such file")
        self.ssl_context()   # a file that is not PEM, or a key that does not match its certificate, fails here
        return self

    @property
    def uses_sasl(self) -> bool:
        return self.kafka_security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.kafka_security_protocol in ("SSL", "SASL_SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context (the broker's certificate and host name verified), or None without TLS."""
        if not self.uses_tls:
            return None
        ca = self.kafka_ssl_ca_file
        try:
            context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca) if ca else None)
        except (ssl.SSLError, OSError) as exc:
            raise ValueError(f"KAFKA_SSL_CA_FILE={ca}: not a readable PEM certificate ({exc})") from exc
        if self.kafka_ssl_cert_file is not None:
            password = self.kafka_ssl_key_password.get_secret_value() if self.kafka_ssl_key_password else None
            try:
                context.load_cert_chain(str(self.kafka_ssl_cert_file), str(self.kafka_ssl_key_file), password)
            except (ssl.SSLError, OSError) as exc:
                raise ValueError(f"KAFKA_SSL_CERT_FILE={self.kafka_ssl_cert_file} with KAFKA_SSL_KEY_FILE="
                                 f"{self.kafka_ssl_key_file}: not a usable certificate and key ({exc})") from exc
        return context

    def describe(self) -> str:
        """The settings in words, for error messages (never the password)."""
        if not self.uses_sasl:
            return self.kafka_security_protocol
        return f"{self.kafka_security_protocol} as {self.kafka_sasl_username!r} ({self.kafka_sasl_mechanism})"


def resolve(security: KafkaSecurity | None) -> KafkaSecurity:
    """The given settings (a service's own, which are KafkaSecurity too), else those of the environment."""
    return security if security is not None else KafkaSecurity()


def broker_security(security: KafkaSecurity | None = None) -> BaseSecurity | None:
    """faststream's form of the settings, for KafkaBroker(security=...); None for PLAINTEXT."""
    security = resolve(security)
    context = security.ssl_context()
    if security.uses_sasl:
        return _FASTSTREAM_SASL[security.kafka_sasl_mechanism](
            security.kafka_sasl_username, security.kafka_sasl_password.get_secret_value(),
            ssl_context=context, use_ssl=security.uses_tls)
    if security.uses_tls:
        return BaseSecurity(ssl_context=context, use_ssl=True)
    return None


def client_options(security: KafkaSecurity | None = None) -> dict[str, Any]:
    """The keyword arguments an aiokafka producer, consumer or admin client needs for these settings."""
    security = resolve(security)
    options: dict[str, Any] = {"security_protocol": security.kafka_security_protocol}
    if security.uses_tls:
        options["ssl_context"] = security.ssl_context()
    if security.uses_sasl:
        options.update(sasl_mechanism=security.kafka_sasl_mechanism,
                       sasl_plain_username=security.kafka_sasl_username,
                       sasl_plain_password=security.kafka_sasl_password.get_secret_value())
    return options


def new_consumer(bootstrap: str, *topics: str, security: KafkaSecurity | None = None, **options) -> AIOKafkaConsumer:
    """An aiokafka consumer with the project's security settings."""
    return AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, **client_options(security), **options)


def new_admin(bootstrap: str, *, security: KafkaSecurity | None = None, **options) -> AIOKafkaAdminClient:
    """An aiokafka admin client with the project's security settings."""
    return AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options(security), **options)


async def start_client(client, bootstrap: str, security: KafkaSecurity | None = None) -> None:
    """Start an aiokafka client; a refusal for a reason of configuration raises KafkaSecurityError naming it."""
    try:
        await client.start()
    except KafkaConnectionError as exc:
        refusal = await refusal_reason(bootstrap, security)
        if refusal is not None:
            raise refusal from exc
        raise
    except (ClusterAuthorizationFailedError, TopicAuthorizationFailedError, GroupAuthorizationFailedError) as exc:
        # Logged in, but the authorizer grants nothing yet (an idempotent producer needs a topic it may write).
        raise KafkaSecurityError(f"Kafka at {bootstrap} denies {resolve(security).describe()}: {exc}; the broker's "
                                 "admin grants the mesh's topics with `supportmesh kafka-provision`") from exc


async def refusal_reason(bootstrap: str, security: KafkaSecurity | None = None,
                         timeout_ms: int = 5000) -> KafkaSecurityError | None:
    """Why the first broker of `bootstrap` refuses these settings, or None when the cause is not security."""
    security = resolve(security)
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    where = f"Kafka at {host}:{port}"
    try:
        conn = await create_conn(host, int(port), request_timeout_ms=timeout_ms, **client_options(security))
    except SaslAuthenticationFailed as exc:
        return KafkaSecurityError(f"{where} refused the login of {security.describe()}: {exc}; "
                                  "check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
    except UnsupportedSaslMechanismError as exc:
        return KafkaSecurityError(f"{where} does not offer KAFKA_SASL_MECHANISM={security.kafka_sasl_mechanism}: {exc}")
    except ssl.SSLCertVerificationError as exc:
        return KafkaSecurityError(f"{where} presented a certificate this client does not trust ({exc.verify_message}); "
                                  f"set KAFKA_SSL_CA_FILE to the CA that signed it (now {security.kafka_ssl_ca_file})")
    except ssl.SSLError as exc:
        return KafkaSecurityError(f"TLS with {where} failed ({exc.reason or exc}): is that listener TLS? "
                                  f"KAFKA_SECURITY_PROTOCOL={security.kafka_security_protocol}")
    except KafkaConnectionError:
        if not security.uses_tls and await _speaks_tls(host, int(port), timeout_ms):
            return KafkaSecurityError(f"{where} speaks TLS but KAFKA_SECURITY_PROTOCOL="
                                      f"{security.kafka_security_protocol}: use SSL or SASL_SSL")
        return None
    except (KafkaError, OSError, TimeoutError, ValueError):
        return None   # down, unreachable, restarting: not a question of security
    try:
        await conn.send(MetadataRequest([]))
    except KafkaConnectionError:
        if not security.uses_sasl:
            # The connection (and its TLS, if any) stood, and the first real request closed it: the broker
            # wants a login first.
            return KafkaSecurityError(f"{where} closed the connection at the first request without a login: "
                                      f"its listener wants SASL, KAFKA_SECURITY_PROTOCOL="
                                      f"{security.kafka_security_protocol}")
    except (KafkaError, TimeoutError):
        pass
    finally:
        conn.close()
    return None


def check_created(response, bootstrap: str, security: KafkaSecurity | None = None) -> None:
    """Raise KafkaSecurityError when a CreateTopics answer refused topics for want of rights.

    aiokafka returns per-topic errors instead of raising them: without this, a user the authorizer denies would
    go on as if its topics existed. Other per-topic errors stay as they were (a racing creator's "already exists").
    """
    refused = [entry[0] for entry in response.topic_errors if entry[1] in (29, 31)]   # TOPIC_/CLUSTER_AUTHORIZATION
    if refused:
        raise KafkaSecurityError(f"Kafka at {bootstrap} does not let {resolve(security).describe()} create "
                                 f"{', '.join(refused)}; grant it the mesh's topics with `supportmesh kafka-provision`")


# Codes of the Kafka protocol's ACL fields (org.apache.kafka.common.acl and .resource).
_TOPIC, _GROUP = 2, 3
_LITERAL, _PREFIXED = 3, 4
_ALL, _READ = 2, 3
_ALLOW = 3
# Every topic the mesh uses starts with one of these (topics.py; chaos.flags; the hop indexer's DLQ).
MESH_TOPIC_PREFIXES = ("tickets.", "stage.", "telemetry.", "chaos.")


async def grant_mesh_user(bootstrap: str, user: str, admin: KafkaSecurity,
                          topic_prefixes: tuple[str, ...] = MESH_TOPIC_PREFIXES) -> list[str]:
    """As `admin` (a super user of the broker), let `user` use the mesh's topics and consumer groups, nothing else.

    A broker with an authorizer and no ACL for a user denies it everything (deploy/infra.sh KAFKA_SECURITY=sasl_ssl).
    Granting twice is harmless: the broker keeps one copy of an ACL. Returns the grants, in words.
    """
    # (resource type, name, pattern, operation): create, write, read and describe the mesh's topics; join and commit
    # in any consumer group (each service is its own group, and tests make their own).
    grants = [(_TOPIC, prefix, _PREFIXED, _ALL) for prefix in topic_prefixes] + [(_GROUP, "*", _LITERAL, _READ)]
    client = new_admin(bootstrap, security=admin)
    await start_client(client, bootstrap, admin)
    try:
        for resource, name, pattern, operation in grants:
            # aiokafka has no ACL call of its own, only the protocol request; its client negotiates the version.
            reply = await client._client.send(client._client.get_random_node(), CreateAclsRequest(
                resource, name, pattern, f"User:{user}", "*", operation, _ALLOW))
            for error_code, error_message in reply.creation_responses:
                if error_code:
                    raise KafkaSecurityError(f"Kafka at {bootstrap} did not grant {user!r} {name!r}: "
                                             f"error {error_code} {error_message or ''}".rstrip())
    finally:
        await client.close()
    return [f"User:{user} may {'use' if resource == _TOPIC else 'consume in'} "
            f"{'topics ' + name + '*' if resource == _TOPIC else 'any group'}" for resource, name, _, _ in grants]


async def _speaks_tls(host: str, port: int, timeout_ms: int) -> bool:
    """Whether a TLS handshake with host:port succeeds (certificate unchecked: this only names the protocol)."""
    probe = ssl.create_default_context()
    probe.check_hostname = False
    probe.verify_mode = ssl.CERT_NONE
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port, ssl=probe), timeout_ms / 1000)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True
