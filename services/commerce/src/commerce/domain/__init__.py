"""Pure store logic: the data model, input validation, ownership rules and seed parsing (no I/O)."""
