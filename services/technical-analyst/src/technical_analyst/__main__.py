"""Starts the technical-analyst service."""

from .app import main

main()
