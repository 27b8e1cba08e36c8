"""Entry point: `python -m intent_classifier [serve|train]`."""

from .app import main

main()
