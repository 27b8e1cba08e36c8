"""`supportmesh chaos`: argument parsing and refusal of bad fault specs, without a broker."""

import io

import pytest
from supportmesh_cli.main import EXIT_USAGE_OR_UNREACHABLE, build_parser, run_async

pytestmark = pytest.mark.unit


def test_chaos_actions_parse():
    args = build_parser().parse_args(["chaos", "set", "retriever", "latency=2s", "pct=100", "for=60s"])
    assert (args.command, args.action, args.service, args.faults) == (
        "chaos", "set", "retriever", ["latency=2s", "pct=100", "for=60s"])
    assert build_parser().parse_args(["chaos", "clear"]).service is None
    assert build_parser().parse_args(["chaos", "status", "--json"]).json


def test_unknown_services_are_refused_by_the_parser():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["chaos", "set", "retreiver", "latency=2s"])


async def test_a_bad_spec_exits_2_before_touching_kafka(capsys):
    code = await run_async(["chaos", "set", "retriever", "latency=fast", "--bootstrap", "127.0.0.1:1"], io.StringIO())
    assert code == EXIT_USAGE_OR_UNREACHABLE
    assert "not a duration" in capsys.readouterr().err


async def test_an_unreachable_broker_exits_2_with_the_reason(capsys):
    code = await run_async(["chaos", "set", "retriever", "latency=2s", "--bootstrap", "127.0.0.1:1"], io.StringIO())
    assert code == EXIT_USAGE_OR_UNREACHABLE
    assert "cannot reach Kafka" in capsys.readouterr().err
