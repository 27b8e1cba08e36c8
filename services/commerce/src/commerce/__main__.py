"""Entry point: `python -m commerce` serves, `python -m commerce reset` drops and reseeds the database."""

from .app import main

main()
