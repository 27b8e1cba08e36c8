"""Unit tests of caller authentication and the permissions file."""

import json

import pytest
from commerce.app import RPC_NAMES
from commerce.auth import (
    BUNDLED_PERMISSIONS,
    Authorizer,
    Forbidden,
    Unauthenticated,
    load_permissions,
    parse_tokens,
)
from supportmesh_core import local_tokens

pytestmark = pytest.mark.unit

WRITES = {"CancelPendingOrder", "ModifyPendingOrderAddress", "ModifyPendingOrderItems", "ModifyPendingOrderPayment",
          "ModifyCustomerAddress", "ReturnDeliveredOrderItems", "ExchangeDeliveredOrderItems", "IssueRefund",
          "CreateCase"}


def test_bundled_permissions_keep_the_retriever_read_only_and_writes_to_the_analyst():
    perms = load_permissions(BUNDLED_PERMISSIONS, RPC_NAMES)
    assert not perms["retriever"] & WRITES and "GetOrder" in perms["retriever"]
    writers = {service for service, rpcs in perms.items() if rpcs & WRITES and service != "ops"}
    assert writers == {"technical-analyst"} and perms["ops"] == frozenset(RPC_NAMES)


TOKENS = local_tokens.generate()


def test_authorizer_maps_tokens_to_services_and_checks_rpcs():
    auth = Authorizer(TOKENS, load_permissions(BUNDLED_PERMISSIONS, RPC_NAMES))
    assert auth.caller([("x-service-token", TOKENS["technical-analyst"])], "IssueRefund") == "technical-analyst"
    with pytest.raises(Forbidden, match="retriever may not call IssueRefund"):
        auth.caller([("x-service-token", TOKENS["retriever"])], "IssueRefund")
    with pytest.raises(Unauthenticated, match="missing"):
        auth.caller([("traceparent", "00-x")], "GetOrder")
    with pytest.raises(Unauthenticated, match="unknown"):
        auth.caller([("x-service-token", TOKENS["retriever"] + "-guess")], "GetOrder")


def test_under_mutual_tls_the_token_must_match_the_certificate():
    auth = Authorizer(TOKENS, load_permissions(BUNDLED_PERMISSIONS, RPC_NAMES), bind_to_certificate=True)
    token = [("x-service-token", TOKENS["technical-analyst"])]
    assert auth.caller(token, "IssueRefund", peer_name="technical-analyst") == "technical-analyst"
    with pytest.raises(Unauthenticated, match="token is technical-analyst's but the client certificate shows CN=retr"):
        auth.caller(token, "IssueRefund", peer_name="retriever")
    with pytest.raises(Unauthenticated, match="no client certificate"):
        auth.caller(token, "IssueRefund", peer_name=None)
    # Without mutual TLS there is no certificate to bind to: the token decides alone.
    plain = Authorizer(TOKENS, load_permissions(BUNDLED_PERMISSIONS, RPC_NAMES))
    assert plain.caller(token, "IssueRefund", peer_name="retriever") == "technical-analyst"


@pytest.mark.parametrize("spec,words", [("", "empty"), ("retriever", "service=token"),
                                        ("a=1,a=2", "twice"), ("a=1,b=1", "same token")])
def test_bad_token_specs_fail_fast(spec, words):
    with pytest.raises(ValueError, match=words):
        parse_tokens(spec)


def test_permissions_naming_an_unknown_rpc_are_refused(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"retriever": ["GetOrder", "RefundEverything"]}))
    with pytest.raises(ValueError, match="unknown RPCs RefundEverything"):
        load_permissions(path, RPC_NAMES)
