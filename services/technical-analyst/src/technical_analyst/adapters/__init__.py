"""I/O at the edges: the commerce gRPC client."""
