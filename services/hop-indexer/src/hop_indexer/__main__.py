"""Starts hop-indexer: `python -m hop_indexer`."""

from .app import main

main()
