"""Pure hop-indexer logic: hop record to ECS document, index names, the index template."""
