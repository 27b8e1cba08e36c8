"""Starts the response-generator service."""

from .app import main

main()
