"""`supportmesh es-provision`: the roles, API keys and read-only user of a secured Elasticsearch, as env files."""

import os
import pathlib
import secrets
from dataclasses import dataclass

from elastic_transport import TransportError
from elasticsearch import ApiError, AsyncElasticsearch
from supportmesh_core.settings import REPO_ROOT

HOPS = "supportmesh-hops-*"
INDEXER_ROLE, RETRIEVER_ROLE, TRACE_ROLE = "supportmesh-hop-indexer", "supportmesh-retriever", "supportmesh-trace"
TRACE_USER = "supportmesh-trace"
ADMIN_USER = "supportmesh-admin"  # the file-realm superuser deploy/infra.sh makes with ES_SECURITY=1


class ProvisionFailed(Exception):
    """Elasticsearch refused or could not be reached while the roles, keys or user were written."""


def indexer_role() -> dict:
    """What hop-indexer calls: PUT _index_template, _bulk into daily indices it creates, and the janitor's
    GET <prefix>-* (settings) and DELETE of expired days. Nothing else (no reads of hop documents)."""
    return {"cluster": ["manage_index_templates"],
            "indices": [{"names": [HOPS], "privileges": ["create_index", "write", "view_index_metadata",
                                                         "delete_index"]}]}


def retriever_role(kb_index: str) -> dict:
    """The knowledge-base loader and search: (re)create the index, bulk-load, put its mapping, refresh, search."""
    return {"indices": [{"names": [kb_index, f"{kb_index}-*"], "privileges": ["read", "write", "manage"]}]}


def trace_role() -> dict:
    """`supportmesh trace`: search the hop indices, nothing more."""
    return {"indices": [{"names": [HOPS], "privileges": ["read"]}]}


@dataclass(frozen=True)
class Credentials:
    """What the callers need: an encoded API key each for the two services, a user for the trace command."""

    indexer_api_key: str
    retriever_api_key: str
    trace_username: str
    trace_password: str


async def provision(es: AsyncElasticsearch, *, kb_index: str = "supportmesh-kb", trace_password: str = "",
                    rotate: bool = False) -> Credentials:
    """Write the three roles and the trace user (idempotent) and make a new API key for each service.

    The keys carry the roles' descriptors themselves (an API key cannot name a role); the named roles are
    there for people and for users. `rotate` invalidates the earlier keys of the same names first.
    """
    roles = {INDEXER_ROLE: indexer_role(), RETRIEVER_ROLE: retriever_role(kb_index), TRACE_ROLE: trace_role()}
    password = trace_password or secrets.token_urlsafe(18)
    try:
        for name, body in roles.items():
            await es.security.put_role(name=name, **body, metadata={"managed_by": "supportmesh es-provision"})
        await es.security.put_user(username=TRACE_USER, password=password, roles=[TRACE_ROLE],
                                   full_name="supportmesh trace (read-only)")
        keys = {}
        for role in (INDEXER_ROLE, RETRIEVER_ROLE):
            if rotate:
                await es.security.invalidate_api_key(name=role)
            created = await es.security.create_api_key(name=role, role_descriptors={role: roles[role]},
                                                       metadata={"managed_by": "supportmesh es-provision"})
            keys[role] = created["encoded"]
    except ApiError as exc:
        raise ProvisionFailed(f"Elasticsearch refused: HTTP {exc.meta.status} {exc.message} "
                              "(provisioning needs a superuser, e.g. supportmesh-admin)") from None
    except TransportError as exc:
        raise ProvisionFailed(f"cannot reach Elasticsearch ({exc})") from None
    return Credentials(keys[INDEXER_ROLE], keys[RETRIEVER_ROLE], TRACE_USER, password)


def default_out_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("SUPPORTMESH_HOME") or REPO_ROOT / ".infra") / "secrets" / "elasticsearch"


def admin_password() -> str:
    """ELASTICSEARCH_PASSWORD, else the password infra.sh keeps for supportmesh-admin in $SUPPORTMESH_HOME."""
    if password := os.environ.get("ELASTICSEARCH_PASSWORD", ""):
        return password
    path = default_out_dir().parent / "elasticsearch-admin"
    try:
        return path.read_text().strip()
    except OSError:
        raise ProvisionFailed(f"no admin password: set ELASTICSEARCH_USERNAME/ELASTICSEARCH_PASSWORD or start the "
                              f"node with ES_SECURITY=1 deploy/infra.sh (it writes {path})") from None


def write_env_files(out_dir: pathlib.Path, creds: Credentials, url: str, ca_file: str) -> list[pathlib.Path]:
    """One env file per caller (mode 600), to source before starting it: hop-indexer, retriever, supportmesh-cli."""
    common = {"ELASTICSEARCH_URL": url, **({"ELASTICSEARCH_CA_FILE": str(pathlib.Path(ca_file).resolve())}
                                           if ca_file else {})}
    files = {"hop-indexer": {**common, "ELASTICSEARCH_API_KEY": creds.indexer_api_key},
             "retriever": {**common, "ELASTICSEARCH_API_KEY": creds.retriever_api_key},
             "supportmesh-cli": {**common, "ELASTICSEARCH_USERNAME": creds.trace_username,
                                 "ELASTICSEARCH_PASSWORD": creds.trace_password}}
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, env in files.items():
        path = out_dir / f"{name}.env"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("".join(f"{key}={value}\n" for key, value in env.items()))
        os.chmod(path, 0o600)  # an older file keeps its mode through O_TRUNC
        written.append(path)
    return written
