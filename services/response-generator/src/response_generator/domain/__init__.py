"""Pure domain code of the response generator: grounded replies and handoffs built from envelope facts."""
