"""Fixtures for the core library's unit tests."""

import asyncio

import pytest


class AckingProducer:
    """Stands in for the Kafka producer: every send is acknowledged at once and kept in `sent`."""

    def __init__(self):
        self.sent = []

    async def send(self, topic, value, key=None, headers=None):
        self.sent.append((topic, key, value))
        acked = asyncio.get_running_loop().create_future()
        acked.set_result(None)
        return acked


@pytest.fixture
def acking_producer():
    return AckingProducer()
