"""Chaos: three replicas of two stages while tickets flow; one of each killed with SIGKILL, added back, and one leaves.

The replicas share each stage's partitions through its consumer group (`deploy/mesh.sh scale`). What must
hold whatever the group does: no ticket lost, none answered twice, no cancellation carried out twice.
"""

import asyncio
import os
import signal

import pytest

pytestmark = pytest.mark.chaos

SCALED = ("retriever", "technical-analyst")   # a lookup stage and the stage that executes actions


async def test_replicas_killed_added_and_leaving_mid_stream_lose_and_repeat_nothing(harness):
    for stage in SCALED:
        await asyncio.to_thread(harness.service, "scale", stage, "3")
    try:
        ids = harness.ids("replicas", 500)
        bodies, cancel_ids = await harness.with_cancellations(ids, every=10)
        events: list[str] = []

        async def churn() -> None:
            # kill -9 one replica of each stage while it holds partitions …
            for stage in SCALED:
                os.kill(harness.pid(f"{stage}@2"), signal.SIGKILL)
            events.append("killed retriever@2 and technical-analyst@2")
            await asyncio.sleep(2)
            # … add it back (a new member joins the group and takes partitions from the others) …
            for stage in SCALED:
                await asyncio.to_thread(harness.service, "scale", stage, "3")
            events.append("added both back")
            await asyncio.sleep(2)
            # … and one replica of each leaves cleanly (its partitions are settled and handed over).
            for stage in SCALED:
                await asyncio.to_thread(harness.service, "stop", f"{stage}@3")
            events.append("retriever@3 and technical-analyst@3 left")

        result = await harness.flow("3 replicas: kill -9, add back, leave", ids, rate=20, bodies=bodies,
                                    during=churn, at=100, timeout=240)
    finally:
        for stage in SCALED:
            await asyncio.to_thread(harness.service, "scale", stage, "1")
    actions = await harness.actions(result, cancel_ids)
    harness.record(result, notes=f"{'; '.join(events)}. {actions.note()}")
    assert len(events) == 3, f"the churn did not finish: {events}"
    assert not result.lost, f"{len(result.lost)} tickets lost: {result.lost[:5]}"
    assert not result.duplicates, f"tickets with two outcomes: {result.duplicates}"
    actions.assert_once()
