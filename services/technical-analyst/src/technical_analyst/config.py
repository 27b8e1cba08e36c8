"""Settings of the technical-analyst service, read from the environment."""

from pydantic import Field
from supportmesh_core.settings import ServiceSettings


class Settings(ServiceSettings):
    """The analyst's environment: the shared settings, the refund approval limit and the commerce token."""

    service_name: str = Field("technical-analyst", validation_alias="OTEL_SERVICE_NAME")
    http_port: int = Field(8104, gt=0, lt=65536, validation_alias="HTTP_PORT")
    # Refunds above this amount (in the store currency) are approved by a human, never by the mesh.
    refund_approval_limit: float = Field(500.0, gt=0, validation_alias="ANALYST_REFUND_APPROVAL_LIMIT")
    # The analyst's identity towards commerce (`x-service-token`); empty means the development token
    # `dev-<service name>-token` that commerce accepts by default.
    commerce_token: str = Field("", validation_alias="COMMERCE_TOKEN")

    def commerce_identity(self) -> str:
        return self.commerce_token or f"dev-{self.service_name}-token"
