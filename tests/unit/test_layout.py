"""The repository's promises about itself: compose runs every service, the Makefile has every target."""

import pathlib
import re

import pytest
import yaml

pytestmark = pytest.mark.unit

REPO = pathlib.Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (REPO / "services").iterdir() if (p / "pyproject.toml").exists())


def test_compose_runs_every_service_with_a_healthcheck():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    assert SERVICES, "no services found"
    for name in SERVICES:
        assert name in compose, f"{name} missing from docker-compose.yml"
        assert compose[name]["build"]["args"]["SERVICE"] == name
        assert "healthcheck" in compose[name]
        for dep, cond in compose[name]["depends_on"].items():
            assert dep in compose and cond["condition"] == "service_healthy"
    for infra in ("kafka", "elasticsearch", "kibana"):
        assert infra in compose


def test_compose_and_native_run_use_the_same_server_versions():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    es_pom = (REPO / "deploy/elasticsearch/pom.xml").read_text()
    kafka_pom = (REPO / "deploy/kafka/pom.xml").read_text()
    es_version = re.search(r"<es.version>(.+?)</es.version>", es_pom).group(1)
    kafka_version = re.search(r"<kafka.version>(.+?)</kafka.version>", kafka_pom).group(1)
    assert compose["elasticsearch"]["image"].endswith(":" + es_version)
    assert compose["kibana"]["image"].endswith(":" + es_version)
    assert compose["kafka"]["image"].endswith(":" + kafka_version)


def test_every_service_is_started_by_the_native_launcher_and_has_a_readme():
    launcher = (REPO / "deploy/mesh.sh").read_text()
    for name in SERVICES:
        assert re.search(rf"\b{name}:\d+", launcher), f"{name} not in deploy/mesh.sh"
        assert (REPO / "services" / name / "README.md").exists()


def test_makefile_has_the_documented_targets():
    targets = set(re.findall(r"^([a-z-]+):", (REPO / "Makefile").read_text(), re.M))
    wanted = {"run", "test", "up", "down", "status", "logs", "protos", "proto-check", "asyncapi", "asyncapi-check",
              "lint", "bench", "publish", "tail", "train"}
    assert wanted <= targets, wanted - targets


def test_the_makefile_declares_only_targets_it_defines_and_lists_them_all_in_help():
    text = (REPO / "Makefile").read_text()
    phony = set(re.search(r"^\.PHONY:((?:.*\\\n)*.*)$", text, re.M).group(1).replace("\\\n", " ").split())
    defined = set(re.findall(r"^([a-z0-9-]+):", text, re.M))
    helped = set(re.findall(r"^([a-z0-9-]+):.*## ", text, re.M))
    assert phony - defined == set(), f".PHONY names targets that do not exist: {sorted(phony - defined)}"
    assert defined - phony == set(), f"targets missing from .PHONY: {sorted(defined - phony)}"
    assert defined - helped == set(), f"targets without a ## line for make help: {sorted(defined - helped)}"
