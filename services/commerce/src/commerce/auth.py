"""Who is calling and may they: service tokens from `x-service-token` metadata, permissions from config.

Tokens come from COMMERCE_TOKENS (`service=token,...`); permissions from a JSON file mapping each service
to the RPCs it may call (`*` for all): the bundled permissions.json unless COMMERCE_PERMISSIONS names
another. A missing or unknown token is UNAUTHENTICATED, a known caller outside its list PERMISSION_DENIED.
Under mutual TLS the token is also bound to the client certificate: its CN must name the token's service.
"""

import hmac
import json
import pathlib
from collections.abc import Iterable, Mapping

TOKEN_METADATA = "x-service-token"
BUNDLED_PERMISSIONS = pathlib.Path(__file__).with_name("permissions.json")


class Unauthenticated(Exception):
    """No token, or a token no service owns."""


class Forbidden(Exception):
    """A known caller asking for an RPC its permissions do not list."""


def parse_tokens(spec: str) -> dict[str, str]:
    """`svc=token,svc2=token2` to {service: token}; raises ValueError on a malformed or duplicate entry."""
    tokens: dict[str, str] = {}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        service, eq, token = part.partition("=")
        service, token = service.strip(), token.strip()
        if not eq or not service or not token:
            raise ValueError(f"COMMERCE_TOKENS entry {part.split('=')[0]!r}... is not service=token")
        if service in tokens:
            raise ValueError(f"COMMERCE_TOKENS names {service} twice")
        if token in tokens.values():
            raise ValueError("COMMERCE_TOKENS gives two services the same token")
        tokens[service] = token
    if not tokens:
        raise ValueError("COMMERCE_TOKENS is empty: no service could call commerce")
    return tokens


def load_permissions(path: pathlib.Path, known_rpcs: Iterable[str]) -> dict[str, frozenset[str]]:
    """The permissions file as {service: RPC names}; raises ValueError naming an unknown RPC or bad shape."""
    raw = json.loads(path.read_text())
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected an object of service -> list of RPC names")
    known = set(known_rpcs)
    permissions: dict[str, frozenset[str]] = {}
    for service, rpcs in raw.items():
        if service.startswith("_"):
            continue  # comments
        if not isinstance(rpcs, list) or not all(isinstance(r, str) for r in rpcs):
            raise ValueError(f"{path}: {service} must map to a list of RPC names")
        unknown = sorted(set(rpcs) - known - {"*"})
        if unknown:
            raise ValueError(f"{path}: {service} lists unknown RPCs {', '.join(unknown)}")
        permissions[service] = frozenset(known if "*" in rpcs else rpcs)
    return permissions


class Authorizer:
    """Maps a call's metadata to the calling service and checks it may call the RPC."""

    def __init__(self, tokens: Mapping[str, str], permissions: Mapping[str, frozenset[str]],
                 bind_to_certificate: bool = False) -> None:
        self._tokens = [(token.encode(), service) for service, token in tokens.items()]
        self._permissions = permissions
        self._bind = bind_to_certificate

    def caller(self, metadata: Iterable[tuple[str, str | bytes]] | None, rpc: str,
               peer_name: str | None = None) -> str:
        """The calling service; raises Unauthenticated or Forbidden.

        `peer_name` is the CN of the client certificate the TLS handshake verified (None without one).
        """
        sent = next((v for k, v in (metadata or ()) if k == TOKEN_METADATA), None)
        if not sent:
            raise Unauthenticated(f"missing {TOKEN_METADATA} metadata: every caller must identify itself")
        sent_b = sent if isinstance(sent, bytes) else sent.encode()
        # Compare against every token in constant time, so timing does not reveal a prefix.
        service = None
        for token, name in self._tokens:
            if hmac.compare_digest(sent_b, token):
                service = name
        if service is None:
            raise Unauthenticated("unknown service token")
        # Under mutual TLS a token alone is not enough: a token copied from a log, an environment dump or
        # another host only works from the machine holding that service's private key, and one service's
        # certificate cannot be used with another service's (stolen) token to gain its permissions.
        if self._bind and peer_name != service:
            shown = f"CN={peer_name}" if peer_name else "no client certificate"
            raise Unauthenticated(f"the token is {service}'s but the client certificate shows {shown}")
        if rpc not in self._permissions.get(service, frozenset()):
            raise Forbidden(f"service {service} may not call {rpc}")
        return service
