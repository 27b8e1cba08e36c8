"""The response-generator package."""
