"""Libraries and tools are imported, services run: no library or tool depends on or imports a service; no script
edits sys.path to reach another."""

import ast
import pathlib
import tomllib

import pytest

pytestmark = pytest.mark.unit

REPO = pathlib.Path(__file__).resolve().parents[2]
SERVICES = [p for p in sorted((REPO / "services").iterdir()) if (p / "pyproject.toml").exists()]
SERVICE_PACKAGES = {tomllib.loads((p / "pyproject.toml").read_text())["project"]["name"] for p in SERVICES}
SERVICE_MODULES = {m.name for p in SERVICES for m in (p / "src").iterdir() if (m / "__init__.py").exists()}
IMPORTED = [p for top in ("libs", "tools") for p in sorted((REPO / top).iterdir()) if (p / "pyproject.toml").exists()]


def _requirement_name(requirement: str) -> str:
    for stop in "<>=!~[ ;":
        requirement = requirement.split(stop)[0]
    return requirement.strip()


@pytest.mark.parametrize("project", IMPORTED, ids=lambda p: p.name)
def test_no_library_or_tool_depends_on_a_service(project):
    deps = tomllib.loads((project / "pyproject.toml").read_text())["project"].get("dependencies", [])
    assert not {_requirement_name(d) for d in deps} & SERVICE_PACKAGES


@pytest.mark.parametrize("project", IMPORTED, ids=lambda p: p.name)
def test_no_library_or_tool_imports_a_service_module(project):
    found = []
    for path in sorted((project / "src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level
                     else [])
            found += [f"{path.relative_to(REPO)}: {n}" for n in names if n.split(".")[0] in SERVICE_MODULES]
    assert not found, found


def test_no_script_edits_sys_path():
    """A script imports what it shares with the others from a library (supportmesh_eval), not from next to it."""
    found = [p.name for p in sorted((REPO / "scripts").glob("*.py")) if "sys.path" in p.read_text()]
    assert not found, found
