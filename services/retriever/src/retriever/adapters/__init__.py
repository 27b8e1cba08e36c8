"""Adapters: Elasticsearch and the commerce gRPC service behind small interfaces."""
