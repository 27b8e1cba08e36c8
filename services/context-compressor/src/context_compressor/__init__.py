"""context-compressor: durable conversation state and a compact, token-budgeted context per ticket."""
