"""The knowledge base in Elasticsearch: the index mapping, an idempotent bulk loader, and search."""

import time
from dataclasses import dataclass

import structlog
from elasticsearch import ApiError, AsyncElasticsearch, NotFoundError, TransportError
from elasticsearch.helpers import async_bulk, async_scan

from ..domain.articles import KbDoc, content_hash

log = structlog.get_logger()

# Only the server's built-in analyzers exist on the integration-test distribution (no analysis-common,
# so no stemmers): the standard analyzer with English stop words is the best that is certain to work.
SETTINGS = {
    "number_of_shards": 1,
    "number_of_replicas": 0,
    "analysis": {"analyzer": {"kb_text": {"type": "standard", "stopwords": "_english_"}}},
}
MAPPING = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "keyword"},
        "title": {"type": "text", "analyzer": "kb_text"},
        "description": {"type": "text", "analyzer": "kb_text"},
        "product_area": {"type": "keyword"},
        "applies_to": {"type": "keyword"},
        "body": {"type": "text", "analyzer": "kb_text"},
        "url": {"type": "keyword"},
        "resolution": {"type": "text", "analyzer": "kb_text"},
        "error_codes": {"type": "keyword"},
    },
}


class KbUnavailable(Exception):
    """A search that Elasticsearch could not answer in time (down, timed out, or refused)."""


@dataclass(frozen=True)
class LoadReport:
    index: str
    version: str
    documents: int
    loaded: bool       # false when the index already held this version
    seconds: float


class KbStore:
    """One KB index; `ensure_loaded` is safe to call from every replica at every start."""

    def __init__(self, es: AsyncElasticsearch, index: str) -> None:
        self._es = es
        self._bounded: dict[float, AsyncElasticsearch] = {}   # a client per request timeout (see `search`)
        self.index = index

    async def ensure_loaded(self, docs: list[KbDoc]) -> LoadReport:
        """Index `docs` unless the index already holds exactly this version of them.

        Documents are keyed by article id, so a rerun overwrites instead of duplicating; documents no
        longer in the data are deleted; the version marker (mapping `_meta`) is written last, so an
        interrupted load is redone on the next start.
        """
        started = time.monotonic()
        version = content_hash(docs, {"settings": SETTINGS, "mappings": MAPPING})
        current = await self._current_version()
        if current == version and await self.count() == len(docs):
            return LoadReport(self.index, version, len(docs), False, time.monotonic() - started)
        if current is None or current == "incompatible":
            await self._recreate()
        ok, errors = await async_bulk(
            self._es, ({"_index": self.index, "_id": d.id, "_source": d.source()} for d in docs),
            chunk_size=500, raise_on_error=False, max_retries=3)
        if errors:
            raise RuntimeError(f"{len(errors)} KB documents failed to index, first: {errors[0]}")
        await self._delete_stale({d.id for d in docs})
        await self._es.indices.refresh(index=self.index)
        await self._es.indices.put_mapping(index=self.index,
                                           meta={"kb_version": version, "documents": len(docs)})
        seconds = time.monotonic() - started
        log.info("knowledge base loaded", index=self.index, documents=ok, version=version,
                 seconds=round(seconds, 2))
        return LoadReport(self.index, version, len(docs), True, seconds)

    async def _current_version(self) -> str | None:
        """The loaded version; None when there is no index, 'incompatible' when its mapping is not ours."""
        try:
            mapping = await self._es.indices.get_mapping(index=self.index)
        except NotFoundError:
            return None
        body = mapping[self.index]["mappings"]
        if body.get("properties") != MAPPING["properties"]:
            return "incompatible"
        return body.get("_meta", {}).get("kb_version", "")

    async def _recreate(self) -> None:
        await self._es.indices.delete(index=self.index, ignore_unavailable=True)
        await self._es.indices.create(index=self.index, settings=SETTINGS, mappings=MAPPING)

    async def _delete_stale(self, keep: set[str]) -> None:
        hits = async_scan(self._es, index=self.index, query={"query": {"match_all": {}}}, _source=False)
        stale = [hit["_id"] async for hit in hits if hit["_id"] not in keep]
        if stale:
            deletes = ({"_op_type": "delete", "_index": self.index, "_id": i} for i in stale)
            await async_bulk(self._es, deletes)
            log.info("stale KB documents deleted", count=len(stale))

    async def count(self) -> int:
        await self._es.indices.refresh(index=self.index)
        return (await self._es.count(index=self.index))["count"]

    async def warm_up(self, bodies: list[dict], timeout_s: float = 30.0) -> float:
        """Run `bodies` once and return the seconds it took; a failure is logged, not raised (the searches of
        real tickets then report it)."""
        started = time.monotonic()
        try:
            for body in bodies:
                await self.search(body, timeout_s)
        except KbUnavailable as exc:
            log.warning("KB warm-up search failed", error=str(exc))
        return time.monotonic() - started

    async def search(self, body: dict, timeout_s: float) -> list[dict]:
        """Hits of a search body, bounded by `timeout_s` seconds on the server and the client."""
        # `options()` builds a whole client (its namespaces, headers, tracing): per search it was a tenth of the
        # retriever's CPU. The timeout is rounded down to a quarter second and each rounding's client kept.
        bound = max(0.25, int(timeout_s * 4) / 4)
        client = self._bounded.get(bound)
        if client is None:
            client = self._bounded[bound] = self._es.options(request_timeout=bound)
        try:
            reply = await client.search(index=self.index, timeout=f"{max(1, int(bound * 1000))}ms", **body)
        except (ApiError, TransportError) as exc:
            raise KbUnavailable(f"{type(exc).__name__}: {exc}"[:300]) from exc
        return [{**hit["_source"], "_score": hit["_score"]} for hit in reply["hits"]["hits"]]
