"""The commerce service: the store backend (customers, orders, tracking) over gRPC on embedded SQLite."""
