"""The benchmark's cost model: CPU milliseconds per ticket per process, and each process's share."""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "scripts"))

from bench import cost_summary  # noqa: E402

pytestmark = pytest.mark.unit


def test_the_summary_adds_the_processes_and_gives_each_share_largest_first():
    line = cost_summary({"kafka": 3.0, "elasticsearch": 6.0, "retriever": 1.0, "commerce": 0.0})
    assert line == "10.0 ms CPU per ticket: elasticsearch 60%, kafka 30%, retriever 10%"


def test_nothing_measured_says_so():
    assert cost_summary({}) == "no CPU measured"
    assert cost_summary({"kafka": 0.0}) == "no CPU measured"
