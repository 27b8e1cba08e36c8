"""deploy/k8s: every overlay renders, passes kubeconform -strict on local schemas, and matches the code it deploys."""

import base64
import inspect
import pathlib
import re
import sys
import warnings

import pytest
import yaml
from hop_indexer import app as hop_indexer_app
from hop_indexer.config import Settings as HopIndexerSettings
from hop_indexer.indexer import HopIndexer
from supportmesh_core import kafka, topics
from supportmesh_core import service as stage_service
from supportmesh_core.settings import ServiceSettings

REPO = pathlib.Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
sys.path.insert(0, str(REPO / "scripts"))

import k8s_schemas  # noqa: E402

pytestmark = pytest.mark.unit
TARGETS = ["base", *k8s_schemas.overlays()]
OVERLAYS = TARGETS[1:]
MEMORY_BUDGET = 256 * 2**20   # each service stays under 250 MB resident; the limit is the budget's ceiling
# Where each service writes (its config.py): the SQLite state under SUPPORTMESH_DATA_DIR, the classifier's model.
WRITES = {"commerce": ["SUPPORTMESH_DATA_DIR"], "context-compressor": ["SUPPORTMESH_DATA_DIR"],
          "technical-analyst": ["SUPPORTMESH_DATA_DIR"], "intent-classifier": ["SUPPORTMESH_MODEL_DIR"]}
ELASTICSEARCH_CLIENTS = {"hop-indexer", "retriever"}
OPERATOR_KINDS = {"Kafka", "KafkaNodePool", "KafkaTopic", "Elasticsearch"}


# ---------------------------------------------------------------- what the code says

def mesh_services() -> dict[str, int]:
    """name -> HTTP port, from deploy/mesh.sh's SERVICES list (the one place that names them)."""
    block = re.search(r"^SERVICES=\(([^)]*)\)", (REPO / "deploy" / "mesh.sh").read_text(), re.M).group(1)
    services = {name: int(port) for name, port in re.findall(r"([a-z-]+):(\d+)", block)}
    assert len(services) == 7, services
    return services


def kafka_consumers() -> dict[str, tuple[str, str]]:
    """service -> (consumer group, input topic), from the declarations the services themselves run on."""
    broker = kafka.new_broker("127.0.0.1:9092", "k8s-test")   # never connected
    consumers = {}
    for stage in topics.STAGES:
        subscriber, _ = kafka.declare_stage(broker, stage)
        (topic,) = subscriber.topics
        consumers[stage] = (subscriber.group_id, topic.name)
    indexer = HopIndexer(HopIndexerSettings(), store=None)
    consumers[indexer.settings.service_name] = (indexer.group_id, indexer.subscriber.topics[0].name)
    assert consumers["intent-classifier"] == ("intent-classifier", topics.INBOUND)
    return consumers


def code_partitions() -> int:
    """The partition count the services create their topics with when nothing created them first."""
    return inspect.signature(kafka.ensure_topics).parameters["partitions"].default


def quantity(value: str | int | float) -> float:
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(value))
    assert match and (match.group(2) in units or not match.group(2)), f"not a quantity: {value!r}"
    return float(match.group(1)) * units.get(match.group(2), 1)


# ---------------------------------------------------------------- rendering

@pytest.fixture(scope="module")
def toolchain() -> tuple[str, str, pathlib.Path]:
    """kustomize, kubeconform and the schemas, built on demand; skipped only without Go (like promtool)."""
    try:
        kustomize, kubeconform = k8s_schemas.tools()
        schemas = k8s_schemas.build(log=lambda message: None)
    except k8s_schemas.Unavailable as exc:
        pytest.skip(f"{exc}; `make k8s-check` builds kustomize and kubeconform with Go")
    return kustomize, kubeconform, schemas


@pytest.fixture(scope="module")
def rendered(toolchain) -> dict[str, str]:
    kustomize = toolchain[0]
    return {target: k8s_schemas.render(kustomize, target) for target in TARGETS}


@pytest.fixture(scope="module")
def docs(rendered) -> dict[str, list[dict]]:
    return {target: [d for d in yaml.safe_load_all(text) if d] for target, text in rendered.items()}


class Render:
    """One rendered target, indexed by kind and name."""

    def __init__(self, documents: list[dict]) -> None:
        self.documents = documents
        self.by_kind: dict[str, dict[str, dict]] = {}
        for d in documents:
            self.by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d

    def kind(self, kind: str) -> dict[str, dict]:
        return self.by_kind.get(kind, {})

    def one(self, kind: str, prefix: str) -> dict:
        """The ConfigMap or Secret kustomize named `prefix-<hash>`."""
        (found,) = [d for n, d in self.kind(kind).items() if n == prefix or re.fullmatch(f"{prefix}-[a-z0-9]{{10}}", n)]
        return found

    def config(self) -> dict[str, str]:
        return self.one("ConfigMap", "supportmesh-config")["data"]

    def secret(self) -> dict[str, str]:
        return {k: base64.b64decode(v).decode() for k, v in self.one("Secret", "supportmesh-secrets")["data"].items()}

    def env(self, container: dict) -> dict[str, str]:
        """What the container sees for plain values: the ConfigMaps it loads, then its own env (which wins)."""
        values = {}
        for source in container.get("envFrom", []):
            values.update(self.kind("ConfigMap")[source["configMapRef"]["name"]]["data"])
        values.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
        return values


@pytest.fixture(scope="module")
def renders(docs) -> dict[str, Render]:
    return {target: Render(d) for target, d in docs.items()}


# ---------------------------------------------------------------- kubeconform

@pytest.mark.parametrize("target", TARGETS)
def test_every_target_passes_kubeconform_strict(toolchain, rendered, docs, target):
    _, kubeconform, schemas = toolchain
    result = k8s_schemas.validate(kubeconform, schemas, rendered[target])
    assert not result["problems"], "\n".join(result["problems"])
    summary = result["summary"]
    assert summary["valid"] + summary["skipped"] == len(docs[target]) and summary["invalid"] == summary["errors"] == 0
    if result["skipped_kinds"]:
        # Only when Java or Maven is missing: Strimzi's CRDs are generated with them (scripts/k8s_schemas.py).
        warnings.warn(f"{target}: not validated, no schema on this machine: {result['skipped_kinds']}", stacklevel=1)
    else:
        assert summary["skipped"] == 0


def test_the_schemas_reject_the_mistakes_an_api_server_would(toolchain, renders):
    """Each schema source is strict: a misspelt field or a wrong type fails, so a pass above means something."""
    _, kubeconform, schemas = toolchain
    prod = renders["overlays/production"]
    broken = []

    def mutate(kind: str, name: str, change) -> None:
        doc = yaml.safe_load(yaml.safe_dump(prod.kind(kind)[name]))
        doc["metadata"]["name"] = f"broken-{name}"
        change(doc)
        broken.append(doc)

    mutate("Deployment", "retriever", lambda d: d["spec"].update(replica=2))                      # Kubernetes
    mutate("Deployment", "commerce", lambda d: d["spec"]["template"]["spec"]["containers"][0]["resources"]
           .update(limit={"memory": "1Gi"}))
    mutate("ScaledObject", "retriever", lambda d: d["spec"]["triggers"][0]["metadata"].update(lagThreshold=50))
    mutate("ScaledObject", "hop-indexer", lambda d: d["spec"].update(maxReplicas=3))              # KEDA
    mutate("Elasticsearch", "supportmesh", lambda d: d["spec"]["nodeSets"][0].update(replicas=3))  # ECK
    if "KafkaTopic" not in k8s_schemas.unavailable(schemas):   # Strimzi
        mutate("KafkaTopic", topics.INBOUND, lambda d: d["spec"].update(partitions="6"))
        mutate("Kafka", "supportmesh", lambda d: d["spec"]["kafka"].update(listener=[]))
    result = k8s_schemas.validate(kubeconform, schemas, yaml.safe_dump_all(broken))
    rejected = {p.split(":", 1)[0] for p in result["problems"]}
    assert rejected == {f"{d['kind']}/{d['metadata']['name']}" for d in broken}, result["problems"]


# ---------------------------------------------------------------- the services

def probe_target(probe: dict, container: dict) -> tuple[str, int]:
    """(path, port) an httpGet probe asks; every health server answers on the pod IP, so no other kind is used."""
    assert set(probe) & {"httpGet", "exec", "tcpSocket", "grpc"} == {"httpGet"}, probe
    port = probe["httpGet"]["port"]
    if isinstance(port, str):
        port = {p["name"]: p["containerPort"] for p in container["ports"]}[port]
    return probe["httpGet"]["path"], port


@pytest.mark.parametrize("target", TARGETS)
def test_every_service_runs_hardened_with_probes_resources_service_and_pdb(renders, target):
    r = renders[target]
    deployments = r.kind("Deployment")
    services = mesh_services()
    assert set(deployments) == set(services)
    uid = int(re.search(r"--uid (\d+)", (REPO / "deploy" / "docker" / "Dockerfile").read_text()).group(1))
    # The setting the health server binds (supportmesh_core.settings), and the services that pass it on.
    bind_host = ServiceSettings.model_fields["http_host"].validation_alias
    assert bind_host == "HTTP_BIND_HOST"
    for source in (inspect.getsource(stage_service.run_stage_service), inspect.getsource(hop_indexer_app.serve)):
        assert "HealthServer(" in source and "host=settings.http_host" in source
    for name, port in services.items():
        spec = deployments[name]["spec"]
        pod = spec["template"]["spec"]
        labels = spec["template"]["metadata"]["labels"]
        assert "replicas" not in spec, f"{name}: its autoscaler owns the replica count"
        assert spec["selector"]["matchLabels"].items() <= labels.items()
        (main,) = [c for c in pod["containers"] if c["name"] == name]
        env = r.env(main)
        assert env["HTTP_PORT"] == str(port) and env["OTEL_SERVICE_NAME"] == name
        assert env.get(bind_host) == "0.0.0.0", f"{name}: the kubelet's httpGet probes need the pod IP"
        assert {"name": "http", "containerPort": port} in main["ports"]
        for kind, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            assert probe_target(main[kind], main) == (path, port), f"{name} {kind}"

        pod_security = pod["securityContext"]
        assert pod_security["runAsNonRoot"] is True and pod_security["runAsUser"] == uid, name
        assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for container in pod.get("initContainers", []) + pod["containers"]:
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False and security["readOnlyRootFilesystem"] is True
            assert security["capabilities"]["drop"] == ["ALL"] and security.get("runAsNonRoot", True) is True
            assert security.get("seccompProfile", {"type": "RuntimeDefault"}) == {"type": "RuntimeDefault"}
            res = container["resources"]
            for resource in ("cpu", "memory"):
                assert quantity(res["requests"][resource]) <= quantity(res["limits"][resource]), container["name"]
            assert quantity(res["limits"]["memory"]) <= MEMORY_BUDGET, container["name"]
            mounts = {m["mountPath"]: m for m in container.get("volumeMounts", [])}
            for mount in mounts.values():
                assert mount["name"] in volumes

        # Every path the service writes is a writable volume, the rest of the filesystem being read-only.
        mounts = {m["mountPath"]: m for m in main["volumeMounts"]}
        for path in ["/tmp", *(env[variable] for variable in WRITES.get(name, []))]:
            assert path in mounts and not mounts[path].get("readOnly"), f"{name} writes {path}"
            volume = volumes[mounts[path]["name"]]
            assert "emptyDir" in volume or "persistentVolumeClaim" in volume, f"{name}: {path}"

        service = r.kind("Service")[name]["spec"]
        assert service["selector"].items() <= labels.items()
        assert {"name": "http", "port": port, "targetPort": "http"} in service["ports"]
        (pdb,) = [p for p in r.kind("PodDisruptionBudget").values()
                  if p["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        assert "maxUnavailable" in pdb["spec"] or "minAvailable" in pdb["spec"]
    commerce = deployments["commerce"]["spec"]["template"]["spec"]["containers"][0]
    host, _, grpc_port = r.config()["COMMERCE_ADDR"].partition(":")
    assert r.env(commerce)["COMMERCE_GRPC_PORT"] == grpc_port and r.env(commerce)["COMMERCE_BIND_HOST"] == "0.0.0.0"
    assert {"name": "grpc", "port": int(grpc_port), "targetPort": "grpc", "appProtocol": "grpc"} in \
        r.kind("Service")[host]["spec"]["ports"]


@pytest.mark.parametrize("target", TARGETS)
def test_env_references_resolve(renders, target):
    """$(VAR) only expands from variables defined before it, and every Secret/ConfigMap key referenced exists."""
    r = renders[target]
    for name, deployment in r.kind("Deployment").items():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            defined = set()
            for source in container.get("envFrom", []):
                defined |= set(r.kind("ConfigMap")[source["configMapRef"]["name"]]["data"])
            for entry in container.get("env", []):
                for ref in re.findall(r"\$\(([A-Z0-9_]+)\)", entry.get("value", "")):
                    assert ref in defined, f"{name}: {entry['name']} uses $({ref}) before it is defined"
                defined.add(entry["name"])
                secret_ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if secret_ref and secret_ref["name"] == "supportmesh-es-elastic-user":
                    assert "supportmesh" in r.kind("Elasticsearch"), "ECK creates that Secret, for this cluster"
                elif secret_ref:
                    assert secret_ref["key"] in r.kind("Secret")[secret_ref["name"]]["data"], (name, secret_ref)
    # commerce accepts exactly the tokens its callers present.
    commerce = r.kind("Deployment")["commerce"]["spec"]["template"]["spec"]["containers"][0]
    spec = {e["name"]: e for e in commerce["env"]}["COMMERCE_TOKENS"]["value"]
    for caller in ("retriever", "technical-analyst"):
        container = r.kind("Deployment")[caller]["spec"]["template"]["spec"]["containers"][0]
        key = {e["name"]: e for e in container["env"]}["COMMERCE_TOKEN"]["valueFrom"]["secretKeyRef"]["key"]
        assert f"{caller}=$({key})" in spec.split(",")


# ---------------------------------------------------------------- scaling

def partitions(r: Render) -> dict[str, int]:
    """Each topic's partition count: the KafkaTopic's where the overlay declares them, else the code's default."""
    declared = {t["metadata"]["name"]: t["spec"]["partitions"] for t in r.kind("KafkaTopic").values()}
    return {topic: declared.get(topic, code_partitions()) for topic in topics.all_topics()}


@pytest.mark.parametrize("target", TARGETS)
def test_every_kafka_consumer_scales_on_its_own_group_lag(renders, target):
    r = renders[target]
    consumers = kafka_consumers()
    scaled = r.kind("ScaledObject")
    assert {s["spec"]["scaleTargetRef"]["name"] for s in scaled.values()} == set(consumers)
    counts = partitions(r)
    # What KEDA must assume for a group without commits: the consumers start at the earliest offset.
    assert 'auto_offset_reset="earliest"' in inspect.getsource(kafka.declare_stage)
    assert 'auto_offset_reset="earliest"' in inspect.getsource(HopIndexer)
    for scaled_object in scaled.values():
        spec = scaled_object["spec"]
        name = spec["scaleTargetRef"]["name"]
        group, topic = consumers[name]
        (trigger,) = spec["triggers"]
        meta = trigger["metadata"]
        assert trigger["type"] == "kafka" and meta["consumerGroup"] == group and meta["topic"] == topic, name
        assert meta["offsetResetPolicy"] == "earliest" and meta["allowIdleConsumers"] == "false"
        assert int(meta["lagThreshold"]) > 0
        main = r.kind("Deployment")[name]["spec"]["template"]["spec"]["containers"][0]
        bootstrap = r.env(main).get(meta["bootstrapServersFromEnv"]) if "bootstrapServersFromEnv" in meta \
            else meta["bootstrapServers"]
        assert bootstrap == r.env(main)["KAFKA_BOOTSTRAP_SERVERS"], name
        # More consumers than partitions would idle: the ceiling is the input topic's partition count.
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= counts[topic], (name, counts[topic])
    if target == "overlays/local":
        assert all(s["spec"]["maxReplicaCount"] == 1 for s in scaled.values())
    if target == "overlays/production":
        assert all(s["spec"]["minReplicaCount"] >= 2 for s in scaled.values())


@pytest.mark.parametrize("target", TARGETS)
def test_commerce_scales_on_cpu(renders, target):
    r = renders[target]
    (hpa,) = r.kind("HorizontalPodAutoscaler").values()
    spec = hpa["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "commerce"}
    (metric,) = spec["metrics"]
    assert metric["type"] == "Resource" and metric["resource"]["name"] == "cpu"
    assert 0 < metric["resource"]["target"]["averageUtilization"] <= 100
    assert 1 <= spec["minReplicas"] <= spec["maxReplicas"]
    commerce = r.kind("Deployment")["commerce"]["spec"]["template"]["spec"]["containers"][0]
    assert quantity(commerce["resources"]["requests"]["cpu"]) > 0   # utilization is a share of the request


# ---------------------------------------------------------------- Kafka and Elasticsearch

def test_production_runs_kafka_and_elasticsearch_from_their_operators(renders):
    r = renders["overlays/production"]
    (cluster,) = r.kind("Kafka").values()
    name = cluster["metadata"]["name"]
    assert cluster["metadata"]["annotations"] == {"strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled"}
    pools = [p for p in r.kind("KafkaNodePool").values() if p["metadata"]["labels"]["strimzi.io/cluster"] == name]
    assert {"controller", "broker"} <= {role for p in pools for role in p["spec"]["roles"]}
    brokers = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])
    (listener,) = [x for x in cluster["spec"]["kafka"]["listeners"] if not x["tls"]]
    assert r.config()["KAFKA_BOOTSTRAP_SERVERS"] == f"{name}-kafka-bootstrap:{listener['port']}"
    assert cluster["spec"]["kafka"]["config"]["auto.create.topics.enable"] is False

    declared = r.kind("KafkaTopic")
    wanted = {*topics.all_topics(), HopIndexerSettings.model_fields["dlq_topic"].default}
    assert set(declared) == wanted
    window_ms = ServiceSettings.model_fields["dedupe_window_hours"].default * 3600 * 1000
    for topic, resource in declared.items():
        spec = resource["spec"]
        assert resource["metadata"]["labels"]["strimzi.io/cluster"] == name
        assert spec["config"]["min.insync.replicas"] < spec["replicas"] <= brokers, topic
        # Every stage reads this window of the outcome topics back at start; no topic keeps less.
        assert spec["config"]["retention.ms"] >= window_ms, topic

    (search,) = r.kind("Elasticsearch").values()
    for service in ELASTICSEARCH_CLIENTS:
        container = r.kind("Deployment")[service]["spec"]["template"]["spec"]["containers"][0]
        assert f"@{search['metadata']['name']}-es-http:9200" in r.env(container)["ELASTICSEARCH_URL"]
    # README: the infrastructure is applied first (-l app.kubernetes.io/component=infrastructure), so the topic
    # operator creates the topics before a service could create them with replication 1.
    infrastructure = [d for d in r.documents if d["kind"] in OPERATOR_KINDS | {"Namespace"}]
    assert all(d["metadata"]["labels"].get("app.kubernetes.io/component") == "infrastructure" for d in infrastructure)


@pytest.mark.parametrize("target", [o for o in OVERLAYS if o != "overlays/production"])
def test_outside_production_kafka_and_elasticsearch_come_from_outside(renders, target):
    r = renders[target]
    assert not OPERATOR_KINDS & set(r.by_kind)
    hosts = {r.config()["KAFKA_BOOTSTRAP_SERVERS"].split(":")[0],
             r.config()["ELASTICSEARCH_URL"].split("://")[1].split(":")[0]}
    for host in hosts:
        assert r.kind("Service")[host]["spec"]["type"] == "ExternalName", host


# ---------------------------------------------------------------- secrets

def test_no_real_looking_secret_is_checked_in(renders):
    placeholder = re.compile(r"REPLACE-ME-[a-z-]+")
    assert all(v == "" or placeholder.fullmatch(v) for v in renders["base"].secret().values())
    assert all(v == "" or placeholder.fullmatch(v) for v in renders["overlays/local"].secret().values())
    assert not (K8S / "overlays" / "local" / "dev.secrets.env").exists()   # no development tokens either
    # Nothing checked in under deploy/k8s looks like a key: no sk-… API key, no long random token.
    key_like = re.compile(r"sk-[A-Za-z0-9_-]{16,}|[A-Za-z0-9+/_-]{32,}")
    for path in K8S.rglob("*.env*"):
        if path.name == "secrets.env":
            continue   # the git-ignored real one, if this machine has it
        for line in path.read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                value = line.partition("=")[2]
                assert not key_like.search(value) or placeholder.fullmatch(value), f"{path}: {line}"
    assert "secrets.env" in (K8S / ".gitignore").read_text().split()
    for overlay in ("production", "local"):
        kustomization = yaml.safe_load((K8S / "overlays" / overlay / "kustomization.yaml").read_text())
        (generator,) = kustomization["secretGenerator"]
        assert generator["envs"] == ["secrets.env"] and generator["behavior"] == "replace"
    # A cluster is strict unless an overlay says otherwise: a missing token stops the pod.
    assert renders["base"].config()["SUPPORTMESH_PROFILE"] == "production"
    assert renders["overlays/production"].config()["SUPPORTMESH_PROFILE"] == "production"

