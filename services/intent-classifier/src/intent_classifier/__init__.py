"""The intent-classifier package."""
