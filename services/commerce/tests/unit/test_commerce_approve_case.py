"""ApproveCase on the real store (SQLite on a temp file, the bundled seed): a pending refund is made once, as named."""

import json

import pytest
from commerce.adapters.sqlite_store import SqliteStore
from commerce.domain.errors import InvalidArgument, NotFound, PermissionDenied
from commerce.write_service import FAILED_PRECONDITION, OK, CommerceWrites, WriteCall
from supportmesh.commerce.v1 import commerce_pb2 as pb

pytestmark = pytest.mark.unit

YUSUF, ORDER = "yusuf_rossi_9620", "#W2378156"   # delivered, paid 1,819.92 with credit_card_9513926
LIMIT_CENTS = 500_00


@pytest.fixture
def store(tmp_path, real_seed):
    s = SqliteStore.open(tmp_path / "commerce.sqlite3")
    assert s.seed(real_seed.data, "test", real_seed.sha256)
    yield s
    s.close()


@pytest.fixture
def writes(store):
    return CommerceWrites(store, LIMIT_CENTS, new_case_id=iter(f"CASE-{i:012d}" for i in range(1, 99)).__next__)


def _pending_case(writes: CommerceWrites, amount: float = 700.0, ticket: str = "T-1") -> str:
    answer = writes.issue_refund(WriteCall("technical-analyst", "IssueRefund", pb.IssueRefundRequest(
        idempotency_key=f"refund-{ticket}", ticket_id=ticket, customer_id=YUSUF, order_id=ORDER, amount=amount,
        reason="broken")))
    assert answer.status_code == FAILED_PRECONDITION and answer.case_id
    return answer.case_id


def _approve(writes: CommerceWrites, case_id: str, key: str = "approve-1", ticket: str = "T-1",
             action: str = "issue_refund", agent: str = "agent:alice"):
    return writes.approve_case(WriteCall("technical-analyst", "ApproveCase", pb.ApproveCaseRequest(
        idempotency_key=key, ticket_id=ticket, case_id=case_id, action=action, approved_by=agent)))


def _refunds(store: SqliteStore) -> list:
    return [p for p in store.order(ORDER).payments if p.transaction_type == "refund"]


def test_an_approved_case_makes_its_refund_once_and_closes(writes, store):
    case_id = _pending_case(writes)
    assert store.case(case_id).payment_method_id == "credit_card_9513926"
    answer = _approve(writes, case_id)
    assert answer.status_code == OK and not answer.replayed
    result = pb.ActionResult.FromString(answer.response)
    assert result.amount == 700.0 and result.payment_method_id == "credit_card_9513926"
    assert "$700.00" in result.summary
    assert [(p.amount_cents, p.payment_method_id) for p in _refunds(store)] == [(700_00, "credit_card_9513926")]
    case = store.case(case_id)
    assert (case.status, case.approved_by) == ("closed", "agent:alice") and case.approved_at
    (row,) = [r for r in store.audit(ticket_id="T-1") if r.rpc == "ApproveCase"]
    assert row.outcome == "done" and "approved by agent:alice" in row.detail
    assert json.loads(row.request_json)["approved_by"] == "agent:alice"


def test_the_same_approval_again_is_a_replay_and_another_key_is_refused(writes, store):
    case_id = _pending_case(writes)
    first = _approve(writes, case_id)
    again = _approve(writes, case_id)
    assert again.replayed and again.response == first.response
    other = _approve(writes, case_id, key="approve-2", agent="agent:bob")
    assert other.status_code == FAILED_PRECONDITION and "already approved by agent:alice" in other.details
    assert len(_refunds(store)) == 1
    outcomes = [r.outcome for r in store.audit(ticket_id="T-1") if r.rpc == "ApproveCase"]
    assert outcomes == ["done", "refused"]


def test_only_the_action_the_case_names_for_its_own_ticket(writes, store):
    case_id = _pending_case(writes)
    refused = _approve(writes, case_id, action="cancel_pending_order")
    assert refused.status_code == FAILED_PRECONDITION and "only the action a case names" in refused.details
    with pytest.raises(PermissionDenied):
        _approve(writes, case_id, key="k-other-ticket", ticket="T-2")
    with pytest.raises(NotFound):
        _approve(writes, "CASE-NOPE", key="k-missing")
    with pytest.raises(InvalidArgument, match="approved_by"):
        _approve(writes, case_id, key="k-nobody", agent="  ")
    assert _refunds(store) == []
    assert store.case(case_id).status == "pending_approval"


def test_an_open_case_names_no_action(writes, store):
    opened = writes.create_case(WriteCall("technical-analyst", "CreateCase", pb.CreateCaseRequest(
        idempotency_key="case-1", ticket_id="T-1", customer_id=YUSUF, order_id=ORDER, reason="duplicate_charge",
        priority="high", summary="charged twice")))
    case_id = pb.Case.FromString(opened.response).case_id
    with pytest.raises(InvalidArgument, match="names no action"):
        _approve(writes, case_id)


def test_the_policy_still_holds_at_approval(writes, store):
    case_id = _pending_case(writes, amount=1500.0)
    # Meanwhile most of the order was refunded another way: the approved refund would exceed what was paid.
    small = writes.issue_refund(WriteCall("technical-analyst", "IssueRefund", pb.IssueRefundRequest(
        idempotency_key="refund-small", ticket_id="T-9", customer_id=YUSUF, order_id=ORDER, amount=400.0)))
    assert small.status_code == OK
    refused = _approve(writes, case_id)
    assert refused.status_code == FAILED_PRECONDITION and "not possible" in refused.details
    assert store.case(case_id).status == "pending_approval"
    assert len(_refunds(store)) == 1
