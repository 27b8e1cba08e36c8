"""The retriever's settings: where the knowledge base comes from and how it is searched."""

import pathlib

from pydantic import Field, field_validator
from supportmesh_core import resolution
from supportmesh_core.elastic import ElasticsearchClientSettings
from supportmesh_core.settings import REPO_ROOT, CommerceClientSettings


class Settings(CommerceClientSettings, ElasticsearchClientSettings):
    service_name: str = Field("retriever", validation_alias="OTEL_SERVICE_NAME")
    http_port: int = Field(8103, gt=0, lt=65536, validation_alias="HTTP_PORT")
    kb_index: str = Field("supportmesh-kb", min_length=1, validation_alias="KB_INDEX")
    kb_path: pathlib.Path = Field(REPO_ROOT / "data" / "kb" / "office_support_articles.jsonl.gz",
                                  validation_alias="KB_PATH")
    # The store's customer-facing help pages (the agent policy is never indexed: it is not for customers).
    help_path: pathlib.Path = Field(resolution.HELP_PATH, validation_alias="KB_HELP_PATH")
    # Loading at start makes a fresh deployment usable without a separate job; the load is skipped
    # when the index already holds this version of the data.
    kb_load_on_start: bool = Field(True, validation_alias="KB_LOAD_ON_START")
    top_k: int = Field(5, ge=1, le=50, validation_alias="RETRIEVER_TOP_K")

    @field_validator("kb_index")
    @classmethod
    def _lower_case_index(cls, value: str) -> str:
        bad = value != value.lower() or value.startswith(("-", "_", "+"))
        if bad or any(c in value for c in ' "*\\<|,>/?'):
            raise ValueError(f"KB_INDEX {value!r} is not a valid Elasticsearch index name")
        return value
