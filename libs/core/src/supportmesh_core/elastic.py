"""Elasticsearch client settings shared by its callers: credentials (API key or user) and TLS trust, checked early."""

import pathlib
import ssl
from typing import Any, ClassVar

from pydantic import Field, SecretStr, model_validator

from .settings import ServiceSettings


class ElasticsearchConfigError(ValueError):
    """The Elasticsearch connection settings contradict each other or name a file that is not there."""


def client_options(url: str, *, api_key: str = "", username: str = "", password: str = "",
                   ca_file: pathlib.Path | str | None = None) -> dict[str, Any]:
    """Keyword arguments for (Async)Elasticsearch besides the URL; ElasticsearchConfigError on a bad combination.

    An https URL without `ca_file` trusts the operating system's store (ssl.create_default_context), not the
    certifi bundle the client would pick by itself: a company CA installed on the machine is then trusted.
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else "http"
    if scheme not in ("http", "https"):
        raise ElasticsearchConfigError(f"ELASTICSEARCH_URL {url!r}: the scheme must be http or https")
    if bool(username) != bool(password):
        given, missing = ("ELASTICSEARCH_USERNAME", "ELASTICSEARCH_PASSWORD") if username else \
            ("ELASTICSEARCH_PASSWORD", "ELASTICSEARCH_USERNAME")
        raise ElasticsearchConfigError(f"{given} is set but {missing} is not: a user needs both")
    if api_key and username:
        raise ElasticsearchConfigError("set ELASTICSEARCH_API_KEY or ELASTICSEARCH_USERNAME/PASSWORD, not both")
    if (api_key or username) and scheme != "https":
        # Basic credentials and API keys are sent with every request: over http anyone on the path reads them.
        raise ElasticsearchConfigError(f"Elasticsearch credentials are set but ELASTICSEARCH_URL {url!r} is not "
                                       "https: they would travel in clear text")
    options: dict[str, Any] = {}
    if ca_file:
        if scheme != "https":
            raise ElasticsearchConfigError(f"ELASTICSEARCH_CA_FILE is set but ELASTICSEARCH_URL {url!r} is not https")
        path = pathlib.Path(ca_file)
        try:
            head = path.read_bytes()[:4096]
        except OSError as exc:
            raise ElasticsearchConfigError(f"ELASTICSEARCH_CA_FILE={path}: cannot read it "
                                           f"({exc.strerror or exc})") from exc
        if b"-----BEGIN CERTIFICATE-----" not in head:
            raise ElasticsearchConfigError(f"ELASTICSEARCH_CA_FILE={path}: not a PEM certificate")
        options["ssl_context"] = ssl.create_default_context(cafile=str(path))
    elif scheme == "https":
        options["ssl_context"] = ssl.create_default_context()
    if api_key:
        options["api_key"] = api_key
    elif username:
        options["basic_auth"] = (username, password)
    return options


class ElasticsearchClientSettings(ServiceSettings):
    """The settings of a service that talks to Elasticsearch: off (plain http, no credentials) unless set.

    ServiceSettings keeps the values out of validation errors, the key and password among them.
    """

    REQUIRED_OUTSIDE_LOCAL: ClassVar[dict[str, str]] = {
        "ELASTICSEARCH_URL": "the Elasticsearch URL, https://… for a secured cluster"}

    # The encoded API key as POST _security/api_key returns it (`encoded`: base64 of id:key).
    elasticsearch_api_key: SecretStr = Field(SecretStr(""), validation_alias="ELASTICSEARCH_API_KEY")
    elasticsearch_username: str = Field("", validation_alias="ELASTICSEARCH_USERNAME")
    elasticsearch_password: SecretStr = Field(SecretStr(""), validation_alias="ELASTICSEARCH_PASSWORD")
    # The CA (PEM) that signed the server's certificate; unset with an https URL: the system trust store.
    elasticsearch_ca_file: pathlib.Path | None = Field(None, validation_alias="ELASTICSEARCH_CA_FILE")

    @model_validator(mode="after")
    def _elasticsearch_checks(self) -> "ElasticsearchClientSettings":
        self.elasticsearch_options()  # raises ElasticsearchConfigError (a ValueError) at start-up
        return self

    def elasticsearch_options(self) -> dict[str, Any]:
        """Keyword arguments for AsyncElasticsearch besides the URL: credentials and TLS trust."""
        return client_options(self.elasticsearch_url, api_key=self.elasticsearch_api_key.get_secret_value(),
                              username=self.elasticsearch_username,
                              password=self.elasticsearch_password.get_secret_value(),
                              ca_file=self.elasticsearch_ca_file)
