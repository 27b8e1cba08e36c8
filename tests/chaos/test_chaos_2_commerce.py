"""Chaos: commerce stopped, commerce answering UNAVAILABLE (flag), and commerce + Kafka behind Toxiproxy."""

import asyncio
import json
import subprocess
import time
import urllib.request

import pytest

pytestmark = pytest.mark.chaos

ORDER_BODIES = [
    "Hi, where is my order #W2378156? It was due yesterday.",
    "Can you give me the tracking number for order #W2378156 please",
    "I want to cancel order #W2378156, I changed my mind.",
    "Outlook keeps asking for my password every few minutes, how do I fix it?",
]
STORE = ("W2378156",)


def assert_degraded_not_broken(result, label: str) -> None:
    """Every ticket has one outcome; store tickets say commerce was unavailable or were handed over."""
    assert not result.lost, f"{label}: {len(result.lost)} tickets lost: {result.lost[:5]}"
    assert not result.duplicates, f"{label}: tickets answered twice: {result.duplicates}"
    for i, tid in enumerate(result.ids):
        if "#W" not in ORDER_BODIES[i % len(ORDER_BODIES)]:
            continue
        out = result.first(tid)
        text = json.dumps(out.body)
        assert "commerce_unavailable" in text or out.topic.endswith("escalations"), \
            f"{label}: {tid} neither degraded nor escalated: {text[:300]}"
        assert '"status": "done"' not in text, f"{label}: an action was done without commerce: {text[:300]}"


async def test_commerce_down_degrades_lookups_without_crash_loops(harness):
    agents = {name: harness.pid(name) for name in ("retriever", "technical-analyst", "response-generator")}
    harness.service("stop", "commerce")
    try:
        result = await harness.flow("commerce down (stopped)", harness.ids("nocom", 60), rate=10,
                                    bodies=ORDER_BODIES, timeout=90)
    finally:
        harness.service("start", "commerce")
    harness.record(result, notes="store tickets answered with commerce_unavailable or escalated")
    assert_degraded_not_broken(result, "commerce down")
    assert {name: harness.pid(name) for name in agents} == agents, "an agent restarted while commerce was down"
    assert result.percentile(0.95) <= harness.budget_ms, "the breaker should make lookups fail fast"


async def test_commerce_unavailable_flag_is_answered_with_degradation(harness):
    harness.chaos("set", "commerce", "unavailable=100", "for=120s")
    await asyncio.sleep(2)
    result = await harness.flow("commerce UNAVAILABLE (flag)", harness.ids("unav", 40), rate=10,
                                bodies=ORDER_BODIES, timeout=90)
    harness.chaos("clear", "commerce")
    harness.record(result, notes="gRPC interceptor aborts with UNAVAILABLE; retries, then breaker")
    assert_degraded_not_broken(result, "commerce unavailable")


# ---- Toxiproxy: network faults below the application ------------------------------------------------

TOXI_API = "http://127.0.0.1:8474"
KAFKA_PROXY = "127.0.0.1:29094"     # deploy/infra.sh advertises the broker's CHAOS listener (9094) here
COMMERCE_PROXY = "127.0.0.1:25051"


def toxi(method: str, path: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(TOXI_API + path, method=method, data=json.dumps(body).encode() if body else None,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else {}


@pytest.fixture
def toxiproxy(harness):
    binary = subprocess.run([str(harness.repo / "deploy" / "install_toxiproxy.sh")], capture_output=True,
                            text=True, check=True, timeout=900).stdout.strip()
    log = open(harness.repo / ".infra" / "logs" / "toxiproxy.log", "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([binary, "-host", "127.0.0.1", "-port", "8474"], stdout=log, stderr=log)
    try:
        for _ in range(50):
            try:
                toxi("GET", "/version")
                break
            except OSError:
                time.sleep(0.1)
        toxi("POST", "/proxies", {"name": "kafka-retriever", "listen": KAFKA_PROXY, "upstream": "127.0.0.1:9094"})
        toxi("POST", "/proxies", {"name": "commerce", "listen": COMMERCE_PROXY, "upstream": "127.0.0.1:50051"})
        # The retriever alone talks to Kafka and commerce through the proxies: its bootstrap is the proxy and
        # the CHAOS listener advertises the proxy, so it cannot bypass it after the first metadata call.
        harness.service("stop", "retriever")
        harness.service("start", "retriever", env={"KAFKA_BOOTSTRAP_SERVERS": KAFKA_PROXY,
                                                   "COMMERCE_ADDR": COMMERCE_PROXY})
        yield toxi
    finally:
        harness.service("stop", "retriever")
        harness.service("start", "retriever")
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


async def test_network_faults_through_toxiproxy(harness, toxiproxy):
    clean = await harness.flow("toxiproxy: no toxics", harness.ids("toxok", 30), rate=10, bodies=ORDER_BODIES)
    assert not clean.lost and not clean.duplicates
    toxiproxy("POST", "/proxies/kafka-retriever/toxics",
              {"name": "slow", "type": "latency", "stream": "downstream", "attributes": {"latency": 300}})
    slow = await harness.flow("toxiproxy: +300 ms on retriever's Kafka", harness.ids("toxlat", 40), rate=10,
                              bodies=ORDER_BODIES, timeout=120)
    toxiproxy("DELETE", "/proxies/kafka-retriever/toxics/slow")
    toxiproxy("POST", "/proxies/commerce", {"enabled": False})
    cut = await harness.flow("toxiproxy: commerce link cut", harness.ids("toxcut", 40), rate=10,
                             bodies=ORDER_BODIES, timeout=120)
    toxiproxy("POST", "/proxies/commerce", {"enabled": True})
    harness.record(clean)
    harness.record(slow, notes="latency toxic on the Kafka link of one service")
    harness.record(cut, notes="commerce proxy disabled: connections refused")
    assert not slow.lost and not slow.duplicates
    assert slow.percentile(0.5) > clean.percentile(0.5) + 250, "the Kafka latency toxic did not slow the retriever"
    assert_degraded_not_broken(cut, "commerce link cut")
