"""Entry point: `python -m context_compressor` runs the stage."""

from .app import main

main()
