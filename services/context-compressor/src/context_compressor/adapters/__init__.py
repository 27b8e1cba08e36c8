"""Adapters: the SQLite conversation store and the BPE tokenizer."""
