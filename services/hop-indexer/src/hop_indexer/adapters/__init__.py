"""hop-indexer's connections to Elasticsearch and to the dead-letter topic."""
