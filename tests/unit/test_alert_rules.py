"""The alert rules in deploy/prometheus: every alert the SRE asked for, on series the services really export."""

import os
import pathlib
import re
import shutil
import subprocess

import pytest
import yaml
from prometheus_client import REGISTRY
from supportmesh_core import metrics  # noqa: F401 - registers the common series

REPO = pathlib.Path(__file__).resolve().parents[2]
RULES = REPO / "deploy" / "prometheus"
WANTED = {"SupportmeshHighErrorRate", "SupportmeshTicketLatencyOverBudget", "SupportmeshEscalationRateHigh",
          "SupportmeshNegativeSentimentSpike", "SupportmeshConsumerLagGrowing", "SupportmeshDeadLetters"}


def exported_series() -> set[str]:
    import hop_indexer.metrics  # noqa: F401 - the hop-indexer's own series

    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"], "gauge": [""]}
    return {family.name + suffix for family in REGISTRY.collect() for suffix in suffixes.get(family.type, [""])}


def alert_rules() -> list[dict]:
    doc = yaml.safe_load((RULES / "alerts.yml").read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


@pytest.mark.unit
def test_every_alert_exists_with_severity_summary_and_known_series():
    rules = alert_rules()
    assert {r["alert"] for r in rules} == WANTED
    known = exported_series()
    for rule in rules:
        assert rule["labels"]["severity"] in {"page", "ticket"} and rule["annotations"]["summary"]
        names = set(re.findall(r"\b(supportmesh_[a-z_]+)", rule["expr"]))
        assert names, rule["alert"]
        assert names <= known, f"{rule['alert']} uses series no service exports: {names - known}"
        assert rule["expr"].count("(") == rule["expr"].count(")")


def promtool() -> str | None:
    found = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if found:
        return found
    if shutil.which("go"):
        done = subprocess.run([str(REPO / "scripts" / "install_promtool.sh")], capture_output=True, text=True,
                              timeout=1800)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]
    return None


@pytest.mark.integration
def test_promtool_checks_the_rules_and_their_unit_tests_pass():
    tool = promtool()
    if tool is None:
        pytest.skip("neither promtool nor Go is installed; `scripts/install_promtool.sh` builds promtool")
    for args in (["check", "rules", "alerts.yml"], ["check", "config", "prometheus.yml"],
                 ["test", "rules", "alerts.test.yml"]):
        done = subprocess.run([tool, *args], cwd=RULES, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"promtool {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        assert "SUCCESS" in done.stdout + done.stderr
