"""The technical-analyst package."""
