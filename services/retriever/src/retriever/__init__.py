"""retriever: knowledge-base search in Elasticsearch plus customer and order lookups over gRPC."""
