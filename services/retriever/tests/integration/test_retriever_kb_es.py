"""The KB loader and search against the real Elasticsearch, on the real articles and policy."""

import dataclasses
import time

import pytest
from elasticsearch import AsyncElasticsearch
from retriever.adapters.kb_files import read_kb
from retriever.adapters.kb_store import KbStore
from retriever.config import Settings
from retriever.domain.query import KB, STORE, build_query, query_codes, query_text, warm_up_queries
from retriever.domain.results import articles_from_hits

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def docs():
    settings = Settings()
    return read_kb(settings.kb_path, settings.help_path)


async def search(kb: KbStore, subject: str, body: str, scope=KB):
    text, codes = query_text(subject, body), query_codes(subject, body, [])
    return articles_from_hits(await kb.search(build_query(text, codes, scope, 5), 5.0))


async def test_load_search_and_idempotent_reload(es_url, unique, docs):
    assert len(docs) == 2446 + sum(d.id.startswith("help:") for d in docs) and len(docs) > 2446
    es = AsyncElasticsearch(es_url, request_timeout=60)
    kb = KbStore(es, f"test-kb-{unique}")
    try:
        first = await kb.ensure_loaded(docs)
        assert first.loaded and await kb.count() == len(docs)

        outlook = await search(kb, "Outlook keeps asking for password", "")
        assert len(outlook) == 5
        assert all(a.id.startswith(("Outlook/", "Exchange/", "Microsoft365/")) for a in outlook[:3])
        assert "password" in outlook[0].title.lower() and outlook[0].steps
        assert outlook[0].url.startswith("https://learn.microsoft.com/en-us/troubleshoot/Outlook/")

        coded = await search(kb, "Send/receive error", "Outlook shows 0x8004010F when I sync")
        assert coded[0].id == \
            "Outlook/Client/synchronization/error-0x8004010f-when-sending-or-receiving-emails"

        store = await search(kb, "Password", "I forgot my password and the reset e-mail never arrives",
                             scope=STORE)
        assert store[0].id == "help:password-reset"
        assert all(a.id.startswith("help:") for a in store)

        took = await kb.warm_up(warm_up_queries(5))
        assert took > 0

        again = await kb.ensure_loaded(docs)
        assert not again.loaded and again.version == first.version
        assert await kb.count() == len(docs)
    finally:
        await es.indices.delete(index=kb.index, ignore_unavailable=True)
        await es.close()


async def test_changed_data_reloads_and_drops_stale_articles(es_url, unique, docs):
    es = AsyncElasticsearch(es_url, request_timeout=60)
    kb = KbStore(es, f"test-kb-small-{unique}")
    try:
        await kb.ensure_loaded(docs[:20])
        edited = [dataclasses.replace(docs[0], title="Renamed article"), *docs[1:10]]
        report = await kb.ensure_loaded(edited)
        assert report.loaded and await kb.count() == 10
        got = await es.get(index=kb.index, id=docs[0].id)
        assert got["_source"]["title"] == "Renamed article"
        mapping = await es.indices.get_mapping(index=kb.index)
        assert mapping[kb.index]["mappings"]["_meta"]["kb_version"] == report.version
    finally:
        await es.indices.delete(index=kb.index, ignore_unavailable=True)
        await es.close()


async def test_search_latency_on_the_loaded_kb(es_url, unique, docs):
    """Not a benchmark: guards against a query shape that makes every search slow."""
    es = AsyncElasticsearch(es_url, request_timeout=60)
    kb = KbStore(es, f"test-kb-lat-{unique}")
    try:
        await kb.ensure_loaded(docs)
        await search(kb, "warm up", "")
        started = time.perf_counter()
        queries = ("Teams meeting audio not working", "SharePoint sync fails 0x80070005",
                   "OneDrive storage full")
        for query in queries:
            assert await search(kb, query, "")
        assert (time.perf_counter() - started) / 3 < 0.5
    finally:
        await es.indices.delete(index=kb.index, ignore_unavailable=True)
        await es.close()


async def test_warm_up_on_a_missing_index_reports_instead_of_raising(es_url, unique):
    es = AsyncElasticsearch(es_url, request_timeout=10)
    try:
        assert await KbStore(es, f"test-kb-missing-{unique}").warm_up(warm_up_queries(5), timeout_s=5) >= 0
    finally:
        await es.close()
