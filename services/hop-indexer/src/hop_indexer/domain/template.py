"""The composable index template that gives every supportmesh-hops-* index its explicit mapping."""

TEMPLATE_NAME = "supportmesh-hops"
TEMPLATE_VERSION = 2

_KEYWORD = {"type": "keyword", "ignore_above": 1024}


def _ids(*names: str) -> dict:
    return {name: {"properties": {"id": {"type": "keyword"}}} for name in names}


def index_template(pattern: str) -> dict:
    """The body of PUT _index_template/supportmesh-hops (1 shard, 0 replicas: one laptop node)."""
    properties = {
        "@timestamp": {"type": "date"},
        **_ids("trace", "parent", "ticket", "conversation"),
        "span": {"properties": {"id": {"type": "keyword"}, "kind": {"type": "keyword"}}},
        "service": {"properties": {"name": {"type": "keyword"}}},
        "event": {"properties": {
            "kind": {"type": "keyword"}, "dataset": {"type": "keyword"},
            "action": {"type": "keyword"}, "outcome": {"type": "keyword"},
            "duration": {"type": "long"},
            "start": {"type": "date_nanos"}, "end": {"type": "date_nanos"},
            "ingested": {"type": "date"},
        }},
        "error": {"properties": {"message": {"type": "text", "fields": {"keyword": _KEYWORD}}}},
        "kafka": {"properties": {
            "topic": {"type": "keyword"}, "partition": {"type": "integer"}, "offset": {"type": "long"},
        }},
        "destination": {"type": "keyword"},
        "intent": {"type": "keyword"},
        "confidence": {"type": "float"},
        "engine": {"type": "keyword"},
        "model": {"type": "keyword"},
        "tokens": {"properties": {"in": {"type": "integer"}, "out": {"type": "integer"}}},
        "cost": {"properties": {"usd": {"type": "double"}}},
        "retries": {"type": "integer"},
        "escalation": {"properties": {"reason": {"type": "keyword"}}},
        # fault.* keys are the chaos flags' own (latency_ms, error, ...), mapped as keyword by the dynamic
        # template; `injected` is set by the indexer on every hop that carries a fault.
        "fault": {"properties": {"injected": {"type": "boolean"}}},
        "labels": {"type": "object"},
        "message": {"type": "text", "fields": {"keyword": _KEYWORD}},
    }
    return {
        "index_patterns": [pattern],
        # Above the built-in templates' priorities, so no stock pattern can take these indices.
        "priority": 500,
        "version": TEMPLATE_VERSION,
        "_meta": {"description": "one document per hop of a ticket through supportmesh (ECS names)"},
        "template": {
            "settings": {"number_of_shards": 1, "number_of_replicas": 0},
            "mappings": {
                "dynamic_templates": [
                    {"labels_as_keyword": {"path_match": "labels.*", "mapping": _KEYWORD}},
                    {"fault_as_keyword": {"path_match": "fault.*", "mapping": _KEYWORD}},
                    # A field a newer hop record adds is searchable as a keyword until mapped explicitly.
                    {"strings_as_keyword": {"match_mapping_type": "string", "mapping": _KEYWORD}},
                ],
                "properties": properties,
            },
        },
    }
