"""The local classification's type, which lives in supportmesh_intent (the `supportmesh` command classifies too);
named here for the domain modules that import it from their own package (handoff.py)."""

from supportmesh_intent.classifier import Classification

__all__ = ["Classification"]
