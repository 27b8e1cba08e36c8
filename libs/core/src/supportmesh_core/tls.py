"""gRPC TLS and mutual TLS from PEM files: settings checks that fail at start-up, credentials, the peer's name."""

import os
import pathlib
from collections.abc import Mapping

import grpc


def check_pem(path: pathlib.Path | None, variable: str) -> None:
    """Raise ValueError naming the variable when its file is missing, unreadable or not PEM."""
    if path is None:
        return
    try:
        head = path.read_bytes()[:4096]
    except OSError as exc:
        raise ValueError(f"{variable}={path}: cannot read it ({exc.strerror or exc})") from exc
    if b"-----BEGIN " not in head:
        raise ValueError(f"{variable}={path}: not a PEM file (expected -----BEGIN ...)")


def check_files(paths: Mapping[str, pathlib.Path | None], *pairs: tuple[str, str],
                needs: Mapping[str, str] | None = None) -> None:
    """Every set file readable PEM; each pair set together or not at all; `needs` {a: b}: a set requires b."""
    for first, second in pairs:
        if (paths[first] is None) != (paths[second] is None):
            given, missing = (first, second) if paths[first] is not None else (second, first)
            raise ValueError(f"{given} is set but {missing} is not: a certificate and its key go together")
    for variable, required in (needs or {}).items():
        if paths[variable] is not None and paths[required] is None:
            raise ValueError(f"{variable} is set but {required} is not: {variable} needs {required}")
    for variable, path in paths.items():
        check_pem(path, variable)


def server_credentials(cert: pathlib.Path, key: pathlib.Path,
                       client_ca: pathlib.Path | None = None) -> grpc.ServerCredentials:
    """TLS with this certificate; with `client_ca`, every client must present a certificate that CA signed."""
    return grpc.ssl_server_credentials(
        [(key.read_bytes(), cert.read_bytes())],
        root_certificates=client_ca.read_bytes() if client_ca is not None else None,
        require_client_auth=client_ca is not None)


def channel_credentials(ca: pathlib.Path, cert: pathlib.Path | None = None,
                        key: pathlib.Path | None = None) -> grpc.ChannelCredentials:
    """Trust servers signed by `ca`; present `cert` (with `key`) when the server asks for a client certificate."""
    return grpc.ssl_channel_credentials(
        root_certificates=ca.read_bytes(),
        private_key=key.read_bytes() if key is not None else None,
        certificate_chain=cert.read_bytes() if cert is not None else None)


def peer_common_name(context: grpc.aio.ServicerContext) -> str | None:
    """The CN of the client certificate the TLS handshake verified, or None (plaintext, or no certificate)."""
    names = (context.auth_context() or {}).get("x509_common_name") or []
    if not names:
        return None
    name = names[0]
    return name.decode() if isinstance(name, bytes) else name


def local_mesh_credentials(service: str = "ops") -> grpc.ChannelCredentials | None:
    """What deploy/mesh.sh gives `service` towards commerce: mutual TLS with its certificate from
    SUPPORTMESH_CERTS_DIR (default .infra/certs) when SUPPORTMESH_TLS=1, else None (plaintext).
    For tests and scripts that call the local mesh's commerce."""
    if os.environ.get("SUPPORTMESH_TLS", "0") != "1":
        return None
    certs = pathlib.Path(os.environ.get("SUPPORTMESH_CERTS_DIR") or pathlib.Path(__file__).resolve().parents[4]
                         / ".infra" / "certs")
    return channel_credentials(certs / "ca.crt", certs / f"{service}.crt", certs / f"{service}.key")


def local_mesh_channel(target: str, service: str = "ops") -> grpc.aio.Channel:
    """A plain aio channel to the local mesh's commerce, TLS the way deploy/mesh.sh runs it."""
    credentials = local_mesh_credentials(service)
    if credentials is None:
        return grpc.aio.insecure_channel(target)
    return grpc.aio.secure_channel(target, credentials)
