"""Random commerce service tokens for the local profile, made once per install in a mode-600 file.

No token is written in the code: in the local profile a missing COMMERCE_TOKENS (commerce) or COMMERCE_TOKEN
(a caller) falls back to this file, which whichever process needs it first creates with fresh random tokens,
so commerce and its callers on one machine agree without a shared literal. deploy/mesh.sh creates it before
starting anything and exports the values. The file is shell- and kustomize-env-shaped:
`COMMERCE_TOKEN_<SERVICE>=<hex>` per line, the same keys as deploy/k8s's supportmesh-secrets.
"""

import os
import pathlib
import secrets
import tempfile
from collections.abc import Iterable, Mapping

REPO_ROOT = pathlib.Path(__file__).resolve().parents[4]
DEFAULT_FILE = REPO_ROOT / ".infra" / "secrets" / "commerce-tokens.env"
FILE_VARIABLE = "SUPPORTMESH_LOCAL_TOKENS_FILE"
# Every caller commerce's bundled permissions know; `ops` is people and tools (tests, scripts, the CLI).
SERVICES = ("retriever", "technical-analyst", "response-generator", "ops")


def env_key(service: str) -> str:
    """`technical-analyst` -> `COMMERCE_TOKEN_TECHNICAL_ANALYST`."""
    return "COMMERCE_TOKEN_" + service.upper().replace("-", "_")


def generate(services: Iterable[str] = SERVICES) -> dict[str, str]:
    """A fresh random token per service (256 bits each)."""
    return {service: secrets.token_hex(32) for service in services}


def tokens_spec(tokens: Mapping[str, str]) -> str:
    """{service: token} as COMMERCE_TOKENS' `service=token,...`."""
    return ",".join(f"{service}={token}" for service, token in tokens.items())


def default_file() -> pathlib.Path:
    """SUPPORTMESH_LOCAL_TOKENS_FILE, else secrets/commerce-tokens.env under SUPPORTMESH_HOME (mesh.sh's rule)."""
    if os.environ.get(FILE_VARIABLE):
        return pathlib.Path(os.environ[FILE_VARIABLE])
    home = os.environ.get("SUPPORTMESH_HOME")
    return pathlib.Path(home) / "secrets" / DEFAULT_FILE.name if home else DEFAULT_FILE


def read(path: pathlib.Path) -> dict[str, str]:
    """The file's tokens as {service: token}; raises ValueError on a line that is not one of ours."""
    by_key = {env_key(s): s for s in SERVICES}
    tokens: dict[str, str] = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, eq, value = line.partition("=")
        if not eq or key.strip() not in by_key or not value.strip():
            raise ValueError(f"{path}:{n}: expected COMMERCE_TOKEN_<SERVICE>=<token>")
        tokens[by_key[key.strip()]] = value.strip()
    missing = [s for s in SERVICES if s not in tokens]
    if missing:
        raise ValueError(f"{path} has no token for {', '.join(missing)}: delete it to have it made again")
    return tokens


def ensure(path: pathlib.Path | None = None) -> dict[str, str]:
    """The local tokens, creating the file with fresh ones if it does not exist yet (race-free: first wins)."""
    path = path or default_file()
    if path.exists():
        return read(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = ("# Local commerce service tokens, random per install (supportmesh_core.local_tokens). Never commit.\n"
            + "".join(f"{env_key(s)}={t}\n" for s, t in generate().items()))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".commerce-tokens.")   # mkstemp: mode 600 from the start
    try:
        with os.fdopen(fd, "w") as f:
            f.write(body)
        try:
            # link() fails if another process got there first; then theirs is the one everybody uses.
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)
    return read(path)


def token_for(service: str, path: pathlib.Path | None = None) -> str:
    """One caller's local token (tests and scripts that talk to the local mesh use `ops`)."""
    tokens = ensure(path)
    if service not in tokens:
        raise ValueError(f"no local commerce token for {service!r} (known: {', '.join(tokens)})")
    return tokens[service]


def mesh_token(service: str = "ops") -> str:
    """The token deploy/mesh.sh gives `service`: COMMERCE_TOKEN_<SERVICE> if exported, else the local file's."""
    return os.environ.get(env_key(service)) or token_for(service)
