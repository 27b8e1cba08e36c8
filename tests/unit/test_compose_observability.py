"""Compose wiring for observability: the Kibana import one-shot and the optional OTLP collector overlay."""

import pathlib

import pytest
import yaml

pytestmark = pytest.mark.unit

REPO = pathlib.Path(__file__).resolve().parents[2]


def compose(name: str) -> dict:
    return yaml.safe_load((REPO / name).read_text())


def test_kibana_setup_imports_the_generated_objects_once_kibana_is_healthy():
    services = compose("docker-compose.yml")["services"]
    setup = services["kibana-setup"]
    assert setup["depends_on"]["kibana"]["condition"] == "service_healthy"
    assert setup["restart"] == "no"
    (volume,) = setup["volumes"]
    host, container = volume.split(":")[:2]
    assert (REPO / host / "saved_objects.ndjson").is_file()
    command = " ".join(setup["command"])
    assert "http://kibana:5601/api/saved_objects/_import?overwrite=true" in command
    assert "kbn-xsrf" in command and f"file=@{container}/saved_objects.ndjson" in command


def test_otel_overlay_points_every_service_at_a_collector_with_an_otlp_traces_pipeline():
    base = compose("docker-compose.yml")["services"]
    overlay = compose("docker-compose.otel.yml")["services"]
    collector = overlay.pop("otel-collector")
    apps = {name for name, svc in base.items() if "build" in svc}
    assert set(overlay) == apps
    for svc in overlay.values():
        assert svc["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4317"
    (mount,) = collector["volumes"]
    config = yaml.safe_load((REPO / mount.split(":")[0]).read_text())
    assert "4317" in config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"]
    pipeline = config["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"] and set(pipeline["exporters"]) <= set(config["exporters"])
