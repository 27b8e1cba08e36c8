"""The retriever stage: search the KB for the ticket and look up its customer and orders."""

import asyncio
import time
from typing import Protocol

import structlog
from supportmesh.v1.envelope_pb2 import Article, Envelope, OrderFacts, PaymentLine, PaymentMethodFacts
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core import resolution
from supportmesh_core.stage import Forward, remaining_seconds

from .adapters.kb_store import KbUnavailable
from .domain.lookups import Commerce, LookupResult, identity, look_up, payment_method_text
from .domain.query import STORE_CATEGORIES, ticket_query
from .domain.results import ArticleHit, articles_from_hits

log = structlog.get_logger()


class Searcher(Protocol):
    async def search(self, body: dict, timeout_s: float) -> list[dict]: ...


class RetrieverHandler:
    """Fills env.retrieval; KB and commerce run concurrently and neither failure stops the ticket."""

    def __init__(self, kb: Searcher, commerce: Commerce, top_k: int = 5,
                 contracts: resolution.Contracts | None = None) -> None:
        self._contracts = contracts or resolution.load()
        self._kb = kb
        self._commerce = commerce
        self._top_k = top_k

    async def __call__(self, env: Envelope, hop: HopRecord) -> Forward:
        ticket, cls = env.ticket, env.classification
        entities = [(e.type, e.value) for e in cls.entities]
        codes = [v for k, v in entities if k == "error_code"]
        scope, body = ticket_query(ticket.subject, ticket.body, cls.intent, cls.category, codes, self._top_k,
                                   self._contracts.for_intent(cls.intent))
        who = identity(ticket.customer.email, ticket.customer.name, ticket.customer.zip, entities)
        started = time.monotonic()
        articles, lookups = await asyncio.gather(
            self._search(env, body),
            look_up(self._commerce, who, cls.category.upper() in STORE_CATEGORIES,
                    lambda: remaining_seconds(env)),
        )
        self._write(env, articles, lookups)
        hop.labels["retriever.scope"] = scope.name
        hop.labels["retriever.articles"] = str(len(articles))
        if articles:
            hop.labels["retriever.top_article"] = articles[0].id
        hop.labels["retriever.customer_verified"] = str(bool(lookups.customer_id)).lower()
        hop.labels["retriever.orders"] = str(len(lookups.orders))
        hop.labels["retriever.ms"] = str(int((time.monotonic() - started) * 1000))
        return Forward(env)

    async def _search(self, env: Envelope, body: dict | None) -> list[ArticleHit]:
        if body is None:
            return []
        try:
            hits = await self._kb.search(body, remaining_seconds(env))
        except KbUnavailable as exc:
            log.warning("knowledge base search failed", error=str(exc))
            if "kb_unavailable" not in env.degradations:
                env.degradations.append("kb_unavailable")
            return []
        return articles_from_hits(hits)

    @staticmethod
    def _write(env: Envelope, articles: list[ArticleHit], lookups: LookupResult) -> None:
        r = env.retrieval
        del r.articles[:]
        r.articles.extend(Article(id=a.id, title=a.title, url=a.url, score=a.score, snippet=a.snippet,
                                  steps=a.steps) for a in articles)
        r.customer_id, r.customer_name = lookups.customer_id, lookups.customer_name
        del r.payment_methods[:]
        r.payment_methods.extend(PaymentMethodFacts(id=m.id, description=m.description)
                                 for m in lookups.payment_methods)
        r.default_address = lookups.address
        methods = {m.id: m.description for m in lookups.payment_methods}
        del r.orders[:]
        r.orders.extend(OrderFacts(order_id=o.order_id, status=o.status, tracking_ids=o.tracking_ids,
                                   item_names=o.item_names, total=o.total, user_id=o.user_id,
                                   payments=[PaymentLine(transaction_type=p.transaction_type, amount=p.amount,
                                                         payment_method=payment_method_text(methods, p.method))
                                             for p in o.payments])
                        for o in lookups.orders)
        del r.lookup_errors[:]
        r.lookup_errors.extend(lookups.errors)
        if lookups.commerce_unavailable and "commerce_unavailable" not in env.degradations:
            env.degradations.append("commerce_unavailable")

