"""Entry point: `python -m retriever` runs the stage, `python -m retriever load-kb` loads the KB."""

from .app import main

main()
