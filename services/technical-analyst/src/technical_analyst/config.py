"""Settings of the technical-analyst service, read from the environment."""

from pydantic import Field
from supportmesh_core.settings import ServiceSettings


class Settings(ServiceSettings):
    """The analyst's environment: the shared settings plus the refund approval limit."""

    service_name: str = Field("technical-analyst", validation_alias="OTEL_SERVICE_NAME")
    http_port: int = Field(8104, gt=0, lt=65536, validation_alias="HTTP_PORT")
    # Refunds above this amount (in the store currency) are approved by a human, never by the mesh.
    refund_approval_limit: float = Field(500.0, gt=0, validation_alias="ANALYST_REFUND_APPROVAL_LIMIT")
