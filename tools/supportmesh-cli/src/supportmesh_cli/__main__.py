"""Runs the CLI as `python -m supportmesh_cli`."""

from .main import main

main()
