"""Adapters of the response generator: the model writer."""
