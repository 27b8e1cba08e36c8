"""hop-indexer's own Prometheus series, next to the common ones of supportmesh_core.metrics."""

from prometheus_client import Counter, Histogram

HOPS_INDEXED = Counter("supportmesh_hops_indexed_total", "Hop documents Elasticsearch accepted")
INDEX_LAG = Histogram("supportmesh_hop_index_lag_seconds", "From a hop's end to Elasticsearch accepting its document",
                      buckets=(0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0))
BULK_FAILURES = Counter("supportmesh_hop_bulk_failures_total", "Bulk attempts that failed and were retried")
