"""JSON Schemas for kubeconform from upstream specs (Go module proxy, Maven Central), and the deploy/k8s check."""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator

import yaml

REPO = pathlib.Path(__file__).resolve().parents[1]
K8S = REPO / "deploy" / "k8s"
OUT = REPO / ".infra" / "k8s-schemas"
# Maven's private repository: the one deploy/infra.sh uses, so both share what they downloaded.
CACHE = pathlib.Path(os.environ.get("SUPPORTMESH_CACHE") or pathlib.Path(
    os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache") / "supportmesh")
STRIMZI_POM = K8S / "schemas" / "strimzi-crd-generator.pom.xml"
INSTALL_TOOLS = REPO / "scripts" / "install_k8s_tools.sh"

# Pinned sources. k8s.io/kubernetes is the smallest module with the real API spec (18 MB zip): kubectl,
# cli-runtime and client-go carry swagger.json only as old test fixtures (no policy/v1, no autoscaling/v2).
KUBERNETES = ("k8s.io/kubernetes", "v1.35.4", ["api/openapi-spec/swagger.json"])
# KEDA v2.21.1's go.mod asks for Go 1.27, and `go mod download` will not unpack it with an older Go.
KEDA = ("github.com/kedacore/keda/v2", "v2.21.0", ["config/crd/bases/keda.sh_scaledobjects.yaml",
                                                   "config/crd/bases/keda.sh_triggerauthentications.yaml"])
ECK = ("github.com/elastic/cloud-on-k8s/v3", "v3.5.0", ["config/crds/v1/all-crds.yaml"])
# Strimzi publishes no CRD files to a registry: its CRDs are generated from the API classes, and both the
# classes (io.strimzi:api) and the generator (io.strimzi:crd-generator) are on Maven Central. The version is
# in the pom; 0.45.0 is the newest there whose generator runs on Java 17 (1.x needs Java 21).
STRIMZI_KINDS = {"Kafka": "io.strimzi.api.kafka.model.kafka.Kafka",
                 "KafkaNodePool": "io.strimzi.api.kafka.model.nodepool.KafkaNodePool",
                 "KafkaTopic": "io.strimzi.api.kafka.model.topic.KafkaTopic"}
STRIMZI_API_VERSION = "v1beta2"

# kubeconform fills these in per resource: `-apps-v1` for apps/v1, `-v1` for the core group.
SCHEMA_TEMPLATE = "{{ .ResourceKind }}{{ .KindSuffix }}.json"
DRAFT = "http://json-schema.org/draft-07/schema#"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
# Keywords whose value is one schema, a list of schemas, or a name -> schema map; everything else is data.
ONE = {"items", "not", "additionalItems"}
MANY = {"allOf", "anyOf", "oneOf"}
NAMED = {"properties", "patternProperties"}
# The overlays read a git-ignored secrets.env; a check renders them from the placeholder example.
SECRET_STANDINS = {"overlays/production/secrets.env": "base/secrets.env.example",
                   "overlays/local/secrets.env": "base/secrets.env.example"}


class Unavailable(Exception):
    """A schema source this machine cannot produce (a tool is missing)."""


def schema_file(kind: str, api_version: str) -> str:
    """The file name kubeconform's KindSuffix template asks for."""
    group, _, version = api_version.rpartition("/")
    suffix = f"-{group.split('.')[0].lower()}-{version}" if group else f"-{version}"
    return f"{kind.lower()}{suffix}.json"


def _keywords(node: dict, convert: Callable[[object], object], drop: set[str] = frozenset()) -> dict:
    """A schema node's keywords without prose, Kubernetes' extensions and `drop`; its sub-schemas through `convert`."""
    out = {}
    for key, value in node.items():
        if key == "description" or key.startswith("x-kubernetes-") or key in drop:
            continue
        if key in NAMED:
            out[key] = {name: convert(sub) for name, sub in value.items()}
        elif key in ONE | MANY or (key == "additionalProperties" and isinstance(value, dict)):
            out[key] = convert(value)
        else:
            out[key] = value
    return out


# ---------------------------------------------------------------- Kubernetes (swagger 2.0 definitions)

def _k8s_node(node: object) -> object:
    """One swagger schema node as strict JSON Schema: no prose, int-or-string spelt out, no unknown fields."""
    if isinstance(node, list):
        return [_k8s_node(n) for n in node]
    if not isinstance(node, dict):
        return node
    if node.get("format") == "int-or-string":
        return {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    out = _keywords(node, _k8s_node)
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False   # -strict: a misspelt field is an error, not silently dropped
    return out


def _refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            yield ref.removeprefix("#/definitions/")
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def kubernetes_schemas(swagger: dict) -> dict[str, dict]:
    """Per kind: its definition plus the definitions it reaches, so each file stands alone (refs stay local)."""
    defs = {name: _k8s_node(schema) for name, schema in swagger["definitions"].items()}
    # A quantity is written as "250m" or as a bare number; the spec only says string.
    defs[QUANTITY] = {"oneOf": [{"type": "string"}, {"type": "number"}]}
    out: dict[str, dict] = {}
    for name, raw in swagger["definitions"].items():
        for gvk in raw.get("x-kubernetes-group-version-kind", []):
            if "kind" not in raw.get("properties", {}):
                continue
            api_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
            seen, todo = set(), [name]
            while todo:
                current = todo.pop()
                if current not in seen:
                    seen.add(current)
                    todo.extend(_refs(defs[current]))
            root = copy.deepcopy(defs[name])
            root["properties"]["apiVersion"] = {"type": "string", "enum": [api_version]}
            root["properties"]["kind"] = {"type": "string", "enum": [gvk["kind"]]}
            out[schema_file(gvk["kind"], api_version)] = {
                "$schema": DRAFT, **root, "definitions": {d: defs[d] for d in sorted(seen)}}
    return out


# ---------------------------------------------------------------- CustomResourceDefinitions (OpenAPI v3)

def _crd_node(node: object) -> object:
    """A CRD's structural schema node as strict JSON Schema, with Kubernetes' extensions turned into keywords."""
    if isinstance(node, list):
        return [_crd_node(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = _keywords(node, _crd_node, drop={"nullable"})
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    if node.get("x-kubernetes-embedded-resource") and "properties" in out:
        for field, kind in (("apiVersion", "string"), ("kind", "string"), ("metadata", "object")):
            out["properties"].setdefault(field, {"type": kind})
    # preserve-unknown-fields is the CRD saying "anything goes here" (ECK pod templates, Strimzi config maps).
    if "properties" in out and "additionalProperties" not in out and not node.get(
            "x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


def crd_schemas(documents: Iterable[dict]) -> dict[str, dict]:
    """One schema per served version of each CRD in `documents`."""
    out: dict[str, dict] = {}
    for crd in documents:
        if not crd or crd.get("kind") != "CustomResourceDefinition":
            continue
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            if not version.get("served", True) or not schema:
                continue
            api_version = f"{group}/{version['name']}"
            root = _crd_node(schema)
            root.setdefault("properties", {})
            root["properties"]["apiVersion"] = {"type": "string", "enum": [api_version]}
            root["properties"]["kind"] = {"type": "string", "enum": [kind]}
            root["properties"].setdefault("metadata", {"type": "object"})
            root.setdefault("additionalProperties", False)
            out[schema_file(kind, api_version)] = {"$schema": DRAFT, **root}
    return out


# ---------------------------------------------------------------- fetching

def _run(args: list[str], **kwargs) -> str:
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} … failed ({done.returncode}):\n{done.stdout[-2000:]}"
                           f"{done.stderr[-2000:]}")
    return done.stdout


def go_module(module: str, version: str) -> pathlib.Path:
    """The module's files via `go mod download` (checked against the checksum database, cached by Go)."""
    if not shutil.which("go"):
        raise Unavailable("Go is not installed")
    env = {**os.environ, "GOTOOLCHAIN": "local"}   # never fetch a newer Go to read a module
    with tempfile.TemporaryDirectory() as cwd:   # outside any go.mod, so nothing is added to one
        info = json.loads(_run(["go", "mod", "download", "-json", f"{module}@{version}"], cwd=cwd, env=env))
    return pathlib.Path(info["Dir"])


def strimzi_crds(work: pathlib.Path) -> list[pathlib.Path]:
    """Strimzi's CRDs, generated by its own CrdGenerator from the API classes on Maven Central."""
    missing = [tool for tool in ("mvn", "java") if not shutil.which(tool)]
    if missing:
        raise Unavailable(f"{' and '.join(missing)} not installed (apt-get install openjdk-17-jre-headless maven)")
    classpath = work / "strimzi.classpath"
    _run(["mvn", "-B", "-q", "-Dstyle.color=never", f"-Dmaven.repo.local={CACHE / 'm2'}", "-f", str(STRIMZI_POM),
          "dependency:build-classpath", f"-Dmdep.outputFile={classpath}"], cwd=work)
    outputs = {kind: work / f"strimzi-{kind.lower()}.yaml" for kind in STRIMZI_KINDS}
    _run(["java", "-cp", classpath.read_text().strip(), "io.strimzi.crdgenerator.CrdGenerator",
          "--crd-api-version", "v1", "--api-versions", STRIMZI_API_VERSION, "--storage-version", STRIMZI_API_VERSION,
          "--yaml", *(f"{cls}={outputs[kind]}" for kind, cls in STRIMZI_KINDS.items())], cwd=work)
    return list(outputs.values())


def _load_yaml(path: pathlib.Path) -> list[dict]:
    return list(yaml.load_all(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def _stamp() -> str:
    """Changes when a pinned version, the pom or this converter changes: then the schemas are rebuilt."""
    digest = hashlib.sha256(pathlib.Path(__file__).read_bytes() + STRIMZI_POM.read_bytes())
    return digest.hexdigest()[:16]


def build(out: pathlib.Path = OUT, log=print) -> pathlib.Path:
    """Writes every schema into `out` (once: a second call with the same stamp returns at once)."""
    stamp_file = out / "index.json"
    if stamp_file.exists() and json.loads(stamp_file.read_text()).get("stamp") == _stamp():
        return out
    log("building Kubernetes, KEDA, ECK and Strimzi schemas (once)")
    schemas: dict[str, dict] = {}
    sources: dict[str, str] = {}
    unavailable: dict[str, str] = {}

    def add(found: dict[str, dict], source: str) -> None:
        for name in found:
            if name in schemas:
                raise RuntimeError(f"{name} comes from both {sources[name]} and {source}")
            sources[name] = source
        schemas.update(found)

    module, version, (swagger,) = KUBERNETES
    add(kubernetes_schemas(json.loads((go_module(module, version) / swagger).read_text())), f"{module}@{version}")
    for module, version, files in (KEDA, ECK):
        root = go_module(module, version)
        add(crd_schemas(doc for f in files for doc in _load_yaml(root / f)), f"{module}@{version}")
    with tempfile.TemporaryDirectory() as work:
        try:
            crds = strimzi_crds(pathlib.Path(work))
            add(crd_schemas(doc for f in crds for doc in _load_yaml(f)), f"io.strimzi ({STRIMZI_POM.name})")
        except Unavailable as exc:
            unavailable.update({kind: str(exc) for kind in STRIMZI_KINDS})
            log(f"warning: no Strimzi schemas: {exc}")
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, schema in schemas.items():
        (tmp / name).write_text(json.dumps(schema, separators=(",", ":")))
    (tmp / "index.json").write_text(json.dumps(
        {"stamp": _stamp(), "sources": sources, "unavailable": unavailable}, indent=1, sort_keys=True))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


# ---------------------------------------------------------------- rendering and validating

def tools() -> tuple[str, str]:
    """(kustomize, kubeconform): KUSTOMIZE/KUBECONFORM from the environment, else built at the pinned versions."""
    if os.environ.get("KUSTOMIZE") and os.environ.get("KUBECONFORM"):
        return os.environ["KUSTOMIZE"], os.environ["KUBECONFORM"]
    if not shutil.which("go"):
        raise Unavailable("Go is not installed: scripts/install_k8s_tools.sh builds kustomize and kubeconform with it")
    lines = _run([str(INSTALL_TOOLS)], timeout=1800).split()
    return lines[-2], lines[-1]


def overlays() -> list[str]:
    return sorted(p.parent.relative_to(K8S).as_posix() for p in (K8S / "overlays").glob("*/kustomization.yaml"))


def render(kustomize: str, target: str) -> str:
    """`kustomize build` of deploy/k8s/<target> from a copy, with placeholder stand-ins for git-ignored secrets."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = pathlib.Path(tmp) / "k8s"
        shutil.copytree(K8S, tree, ignore=shutil.ignore_patterns("secrets.env"))
        for wanted, example in SECRET_STANDINS.items():
            shutil.copy(tree / example, tree / wanted)
        return _run([kustomize, "build", str(tree / target)])


def unavailable(schemas: pathlib.Path) -> dict[str, str]:
    """Kinds this machine could not produce a schema for (kind -> why); empty where Java and Maven exist."""
    return json.loads((schemas / "index.json").read_text()).get("unavailable", {})


def validate(kubeconform: str, schemas: pathlib.Path, manifests: str) -> dict:
    """kubeconform -strict over `manifests`: {"summary": {...}, "problems": [...]} (problems empty when valid)."""
    skipped = unavailable(schemas)
    args = [kubeconform, "-strict", "-summary", "-output", "json", "-schema-location",
            str(schemas / SCHEMA_TEMPLATE)]
    if skipped:
        args += ["-skip", ",".join(sorted(skipped))]
    done = subprocess.run([*args, "-"], input=manifests, capture_output=True, text=True, timeout=300)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        return {"summary": {}, "problems": [done.stdout[-2000:] + done.stderr[-2000:]]}
    problems = [f"{r.get('kind')}/{r.get('name')}: {r.get('status')}: {r.get('msg')}"
                for r in report.get("resources", []) if r.get("status") not in ("statusValid", "statusSkipped")]
    if done.returncode != 0 and not problems:
        problems.append(done.stderr[-2000:] or f"kubeconform exited {done.returncode}")
    return {"summary": report.get("summary", {}), "problems": problems, "skipped_kinds": sorted(skipped)}


def check() -> int:
    """Render every overlay and validate it; one line per overlay. Returns the exit code."""
    kustomize, kubeconform = tools()
    schemas = build(log=lambda m: print(m, file=sys.stderr))
    failed = False
    for target in ["base", *overlays()]:
        result = validate(kubeconform, schemas, render(kustomize, target))
        s = result["summary"]
        print(f"{target}: {s.get('valid', 0)} valid, {s.get('invalid', 0)} invalid, {s.get('errors', 0)} errors, "
              f"{s.get('skipped', 0)} skipped")
        for problem in result["problems"]:
            failed = True
            print(f"  {problem}")
    if result.get("skipped_kinds"):
        print(f"not validated (no schema on this machine): {', '.join(result['skipped_kinds'])}")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="also render every overlay and validate it")
    parser.add_argument("--out", type=pathlib.Path, default=OUT, help="where the schemas go (default %(default)s)")
    args = parser.parse_args()
    if args.check:
        return check()
    print(build(args.out, log=lambda m: print(m, file=sys.stderr)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
