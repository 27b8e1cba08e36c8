"""What the evaluation and benchmark scripts share: scenario cases and scoring, the mesh client, a private commerce
server, the retrieval scoring and latency figures; imported, never run."""
