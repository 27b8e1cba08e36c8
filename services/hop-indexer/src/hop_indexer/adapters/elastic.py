"""Elasticsearch behind the DocStore interface: the index template and per-document bulk results."""

from dataclasses import dataclass
from typing import Any, Protocol

from elastic_transport import TransportError
from elasticsearch import ApiError, AsyncElasticsearch

from ..domain.documents import IndexDoc
from ..domain.template import TEMPLATE_NAME, index_template


class StoreUnavailable(Exception):
    """The whole request failed (unreachable, timed out, overloaded): worth retrying as it is."""


class StoreRejected(Exception):
    """The whole request was refused as bad (4xx): retrying it unchanged can never succeed."""


@dataclass(frozen=True)
class ItemResult:
    """What Elasticsearch said about one document of a bulk request."""

    status: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        # 429 is back-pressure and 5xx a sick node: both pass; 401/403 pass once the key or its role is fixed.
        # Other 4xx (mapping errors) never will.
        return self.status in (401, 403, 408, 429) or self.status >= 500


class DocStore(Protocol):
    """Where hop documents are indexed."""

    async def install_template(self) -> None: ...

    async def bulk_index(self, docs: list[IndexDoc]) -> list[ItemResult]:
        """One result per document, in order; StoreUnavailable or StoreRejected for the whole request."""

    async def list_indices(self, pattern: str) -> list[str]:
        """Names of the indices matching `pattern`; StoreUnavailable when it cannot tell."""

    async def delete_index(self, name: str) -> None:
        """Delete one index (gone already is fine); StoreUnavailable when it cannot."""

    async def close(self) -> None: ...


class ElasticDocStore:
    """The real DocStore: AsyncElasticsearch with the client's own retries off (the caller backs off)."""

    def __init__(self, url: str, template_pattern: str, timeout_s: float, **client_options: Any) -> None:
        """`client_options`: credentials and TLS trust (supportmesh_core.elastic.client_options)."""
        self._es = AsyncElasticsearch(url, request_timeout=timeout_s, max_retries=0, retry_on_timeout=False,
                                      **client_options)
        self._pattern = template_pattern

    async def install_template(self) -> None:
        """PUT the index template; idempotent, so every start (and every replica) may do it."""
        try:
            await self._es.indices.put_index_template(name=TEMPLATE_NAME, **index_template(self._pattern))
        except (ApiError, TransportError) as exc:
            raise StoreUnavailable(f"index template not installed: {_describe(exc)}") from exc

    async def bulk_index(self, docs: list[IndexDoc]) -> list[ItemResult]:
        """Index `docs` in one bulk request; one result per document, in order."""
        operations: list[dict] = []
        for doc in docs:
            operations.append({"index": {"_index": doc.index, "_id": doc.doc_id}})
            operations.append(doc.body)
        try:
            response = await self._es.bulk(operations=operations)
        except ApiError as exc:
            # 401/403 refuse the credentials, not the hops: they wait (backing off) until the key or role is fixed.
            if 400 <= exc.meta.status < 500 and exc.meta.status not in (401, 403, 408, 429):
                raise StoreRejected(f"bulk request refused: {_describe(exc)}") from exc
            raise StoreUnavailable(f"bulk request failed: {_describe(exc)}") from exc
        except TransportError as exc:
            raise StoreUnavailable(f"bulk request failed: {_describe(exc)}") from exc
        results = []
        for item in response["items"]:
            outcome = item["index"]
            error = outcome.get("error")
            results.append(ItemResult(outcome["status"], _error_text(error) if error else ""))
        if len(results) != len(docs):
            raise StoreUnavailable(f"bulk answered {len(results)} items for {len(docs)} documents")
        return results

    async def list_indices(self, pattern: str) -> list[str]:
        try:
            response = await self._es.indices.get(index=pattern, allow_no_indices=True, ignore_unavailable=True,
                                                  expand_wildcards="open,closed", features="settings")
        except (ApiError, TransportError) as exc:
            raise StoreUnavailable(f"indices not listed: {_describe(exc)}") from exc
        return sorted(response.keys())

    async def delete_index(self, name: str) -> None:
        try:
            await self._es.indices.delete(index=name, ignore_unavailable=True)
        except (ApiError, TransportError) as exc:
            raise StoreUnavailable(f"index {name} not deleted: {_describe(exc)}") from exc

    async def close(self) -> None:
        await self._es.close()


def _error_text(error: dict | str) -> str:
    if isinstance(error, dict):
        text = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        cause = error.get("caused_by")
        return f"{text} (caused by {_error_text(cause)})" if cause else text
    return str(error)


def _describe(exc: Exception) -> str:
    if isinstance(exc, ApiError):
        return f"HTTP {exc.meta.status}: {exc.message}"
    if isinstance(exc, TransportError):  # str() of a TlsError is just "TLS error"; the message says which
        return f"{type(exc).__name__}: {exc.message}"
    return f"{type(exc).__name__}: {exc}"
