"""TLS and mutual TLS on a real `python -m commerce` (real SQLite store, real port) with certificates from
deploy/certs.sh: who gets through, who is refused, and bad TLS or token settings stopping start-up."""

import asyncio
import os
import pathlib
import subprocess
import sys

import grpc
import pytest
from supportmesh.commerce.v1 import commerce_pb2 as pb
from supportmesh.commerce.v1 import commerce_pb2_grpc
from supportmesh_core import local_tokens, tls
from supportmesh_core.grpcutil import tracing_channel

pytestmark = pytest.mark.integration

REPO = pathlib.Path(__file__).resolve().parents[4]
TOKENS = local_tokens.generate()
SPEC = local_tokens.tokens_spec(TOKENS)
YUSUF, ORDER = "yusuf_rossi_9620", "#W2378156"


def make_certs(directory: pathlib.Path) -> pathlib.Path:
    subprocess.run([str(REPO / "deploy" / "certs.sh")], check=True, capture_output=True,
                   env={**os.environ, "SUPPORTMESH_CERTS_DIR": str(directory),
                        "SUPPORTMESH_CERT_CLIENTS": "retriever technical-analyst ops"})
    return directory


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> pathlib.Path:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def rogue(tmp_path_factory) -> pathlib.Path:
    """Another CA's certificates, with the same names: what someone who can run certs.sh themselves holds."""
    return make_certs(tmp_path_factory.mktemp("rogue-certs"))


def server_env(certs: pathlib.Path, mutual: bool) -> dict[str, str]:
    env = {"COMMERCE_TOKENS": SPEC, "COMMERCE_TLS_CERT": str(certs / "server.crt"),
           "COMMERCE_TLS_KEY": str(certs / "server.key")}
    if mutual:
        env["COMMERCE_TLS_CLIENT_CA"] = str(certs / "ca.crt")
    return env


async def get_order(channel: grpc.aio.Channel) -> pb.Order:
    return await commerce_pb2_grpc.CommerceServiceStub(channel).GetOrder(
        pb.GetOrderRequest(order_id=ORDER, customer_id=YUSUF), timeout=5)


async def refused(channel: grpc.aio.Channel) -> grpc.StatusCode:
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await get_order(channel)
    return caught.value.code()


def mtls_channel(target: str, ca: pathlib.Path, certs: pathlib.Path, name: str, service: str) -> grpc.aio.Channel:
    """A channel presenting `name`'s certificate from `certs` and sending `service`'s token."""
    credentials = tls.channel_credentials(ca, certs / f"{name}.crt", certs / f"{name}.key")
    return tracing_channel(target, "test", token=TOKENS[service], credentials=credentials)


async def test_tls_serves_a_client_trusting_the_ca_and_refuses_plaintext(commerce_processes, certs):
    proc = await asyncio.to_thread(commerce_processes, **server_env(certs, mutual=False))
    async with tracing_channel(proc.target, "test", token=TOKENS["ops"],
                               credentials=tls.channel_credentials(certs / "ca.crt")) as channel:
        assert (await get_order(channel)).order_id == ORDER
    # A plaintext client never completes a handshake: nothing it sends (token included) reaches the servicer.
    assert await refused(tracing_channel(proc.target, "test", token=TOKENS["ops"])) == grpc.StatusCode.UNAVAILABLE


async def test_tls_client_refuses_a_server_its_ca_did_not_sign(commerce_processes, certs, rogue):
    proc = await asyncio.to_thread(commerce_processes, **server_env(certs, mutual=False))
    impostor_check = tracing_channel(proc.target, "test", token=TOKENS["ops"],
                                     credentials=tls.channel_credentials(rogue / "ca.crt"))
    assert await refused(impostor_check) == grpc.StatusCode.UNAVAILABLE


async def test_mutual_tls_admits_only_a_certificate_of_the_ca_naming_the_token_s_service(commerce_processes, certs,
                                                                                         rogue):
    proc = await asyncio.to_thread(commerce_processes, **server_env(certs, mutual=True))
    ca = certs / "ca.crt"
    # The right certificate with its own token: served, for a lookup and for the analyst's own RPC.
    async with mtls_channel(proc.target, ca, certs, "technical-analyst", "technical-analyst") as channel:
        assert (await get_order(channel)).order_id == ORDER
    async with mtls_channel(proc.target, ca, certs, "ops", "ops") as channel:
        assert (await get_order(channel)).order_id == ORDER

    # No client certificate: the handshake fails.
    no_cert = tracing_channel(proc.target, "test", token=TOKENS["technical-analyst"],
                              credentials=tls.channel_credentials(ca))
    assert await refused(no_cert) == grpc.StatusCode.UNAVAILABLE
    # A certificate with the right name from another CA: the handshake fails.
    assert await refused(mtls_channel(proc.target, ca, rogue, "technical-analyst", "technical-analyst")) \
        == grpc.StatusCode.UNAVAILABLE
    # A valid certificate of another service with a stolen token: the handshake passes, the binding does not.
    async with mtls_channel(proc.target, ca, certs, "retriever", "technical-analyst") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await get_order(channel)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "token is technical-analyst's but the client certificate shows CN=retriever" in caught.value.details()
    # And the token still decides what a matching caller may do.
    async with mtls_channel(proc.target, ca, certs, "retriever", "retriever") as channel:
        refund = pb.IssueRefundRequest(idempotency_key="k-1", ticket_id="T-1", customer_id=YUSUF, order_id=ORDER)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await commerce_pb2_grpc.CommerceServiceStub(channel).IssueRefund(refund, timeout=5)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize("change,words", [
    ({"COMMERCE_TLS_KEY": None}, "COMMERCE_TLS_CERT is set but COMMERCE_TLS_KEY is not"),
    ({"COMMERCE_TLS_KEY": "/nonexistent/server.key"}, "COMMERCE_TLS_KEY=/nonexistent/server.key: cannot read it"),
    ({"COMMERCE_TLS_CERT": None, "COMMERCE_TLS_KEY": None}, "COMMERCE_TLS_CLIENT_CA is set but COMMERCE_TLS_CERT"),
    ({"COMMERCE_TOKENS": None, "SUPPORTMESH_PROFILE": "production"}, "COMMERCE_TOKENS is not set"),
], ids=["cert-without-key", "missing-key-file", "client-ca-without-cert", "production-without-tokens"])
def test_bad_settings_stop_start_up_with_the_variable_named(certs, tmp_path, change, words):
    env = {**os.environ, **server_env(certs, mutual=True), "COMMERCE_DB_PATH": str(tmp_path / "c.sqlite3"),
           "COMMERCE_GRPC_PORT": "0", "HTTP_PORT": "0"}
    for name, value in change.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    done = subprocess.run([sys.executable, "-m", "commerce"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert words in done.stderr + done.stdout
    assert not (tmp_path / "c.sqlite3").exists()   # stopped before opening anything
