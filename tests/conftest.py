"""Fixtures for the end-to-end suites: the whole mesh running as local processes on real Kafka and ES."""

import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
MESH = REPO / "deploy" / "mesh.sh"


def _running_services() -> set[str]:
    out = subprocess.run([str(MESH), "status"], capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in out.splitlines() if " ready " in f" {line} "}


@pytest.fixture(scope="session")
def mesh(kafka_bootstrap, es_url):
    """Every service started (or reused when `make up` already runs them); stopped afterwards if we started it."""
    before = _running_services()
    subprocess.run([str(MESH), "start"], check=True, timeout=300)
    yield MESH
    started = _running_services() - before
    if started:
        subprocess.run([str(MESH), "stop", *sorted(started)], check=False, timeout=120)
