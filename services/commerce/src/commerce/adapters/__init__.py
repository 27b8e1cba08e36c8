"""I/O at the edges: the SQLite store, the seed file, and the hop sink that tolerates a missing Kafka."""
