"""Every service's settings by profile: local starts on no environment, production only on what deploy/k8s gives it.

The README's table of what production requires, each service's settings class and the Kubernetes base are held
to each other here, so none of the three can drift from the others.
"""

import importlib
import pathlib
import re

import pytest
import yaml
from pydantic import ValidationError

pytestmark = pytest.mark.unit

REPO = pathlib.Path(__file__).resolve().parents[2]
BASE = REPO / "deploy" / "k8s" / "base"
SERVICES = sorted(p.name for p in (REPO / "services").iterdir() if (p / "pyproject.toml").exists())


def settings_class(service: str):
    return importlib.import_module(f"{service.replace('-', '_')}.config").Settings


def env_file(path: pathlib.Path) -> dict[str, str]:
    lines = (line for line in path.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#"))
    return dict(line.split("=", 1) for line in lines)


def k8s_env(service: str) -> dict[str, str]:
    """What the base gives the service's container: the shared ConfigMap, then its own env, a Secret's key read as
    its placeholder and $(VAR) expanded as the kubelet does (the overlays only add to it or change values)."""
    values, secrets = env_file(BASE / "config.env"), env_file(BASE / "secrets.env.example")
    documents = yaml.safe_load_all((BASE / f"{service}.yaml").read_text())
    (deployment,) = [d for d in documents if d and d["kind"] == "Deployment"]
    for entry in deployment["spec"]["template"]["spec"]["containers"][0].get("env", []):
        if "value" in entry:
            values[entry["name"]] = re.sub(r"\$\(([A-Z0-9_]+)\)", lambda m: values[m.group(1)], entry["value"])
        else:
            values[entry["name"]] = secrets[entry["valueFrom"]["secretKeyRef"]["key"]]
    return values


def readme_table() -> dict[str, set[str]]:
    """README, Profiles: {variable: the services production requires it of}."""
    text = (REPO / "README.md").read_text()
    table = text.split("| setting | required in production by |", 1)[1].split("\n\n", 1)[0]
    required = {}
    for row in table.splitlines()[2:]:
        variable, services = (cell.strip() for cell in row.strip("|").split("|")[:2])
        required[variable.strip("`")] = set(SERVICES) if services == "every service" else set(services.split(", "))
    return required


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """Nothing any service reads is in the environment (the local tokens file is a fresh one)."""
    def clean(service: str) -> None:
        for info in settings_class(service).model_fields.values():
            if isinstance(info.validation_alias, str):
                monkeypatch.delenv(info.validation_alias, raising=False)
        monkeypatch.delenv("SUPPORTMESH_HOME", raising=False)
        monkeypatch.setenv("SUPPORTMESH_LOCAL_TOKENS_FILE", str(tmp_path / "tokens.env"))
    return clean


@pytest.mark.parametrize("service", SERVICES)
def test_the_local_profile_starts_with_no_environment(clean_env, service):
    clean_env(service)
    settings = settings_class(service)()
    assert (settings.profile, settings.service_name) == ("local", service)
    assert settings.kafka_bootstrap_servers == "127.0.0.1:9092"


@pytest.mark.parametrize("service", SERVICES)
def test_production_starts_on_what_the_k8s_base_gives_and_stops_naming_each_missing_setting(
        clean_env, monkeypatch, service):
    clean_env(service)
    given = k8s_env(service)
    assert given["SUPPORTMESH_PROFILE"] == "production"
    required = settings_class(service).required_outside_local()
    assert set(required) <= set(given), f"deploy/k8s/base does not give {service} {set(required) - set(given)}"
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    assert settings_class(service)().profile == "production"
    for variable in required:
        monkeypatch.delenv(variable)
        with pytest.raises(ValidationError, match=f"{variable} is not set: the production profile needs "):
            settings_class(service)()
        monkeypatch.setenv(variable, given[variable])


def test_the_readme_lists_what_production_requires_of_each_service():
    by_variable: dict[str, set[str]] = {}
    for service in SERVICES:
        for variable in settings_class(service).required_outside_local():
            by_variable.setdefault(variable, set()).add(service)
    assert readme_table() == by_variable
