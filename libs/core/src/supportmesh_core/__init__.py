"""Shared plumbing for supportmesh services; imported, never run."""
