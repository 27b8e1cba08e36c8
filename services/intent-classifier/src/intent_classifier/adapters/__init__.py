"""Adapters: reading the bundled training data and persisting the model artifact."""
