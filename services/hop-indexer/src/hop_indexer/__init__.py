"""The hop-indexer package."""
