"""The store's writes: idempotency, the policy, the change, the audit entry and the answer, in one transaction.

Each write runs in one BEGIN IMMEDIATE transaction that first looks up the caller's idempotency key: a
key seen before returns the stored first answer and acts no more, whichever process or restart stored
it. Otherwise the policy decides; an allowed change is applied, audited and its answer stored; a policy
refusal is audited and stored too (a refund above the limit opens its pending-approval case in the same
transaction), so a retry is told the same thing and opens no second case. Malformed requests and unknown
ids roll back and store nothing: the caller can correct them and retry with the same key.

Blocking (SQLite with fsync): the servicer runs these in a worker thread, one at a time per process.
"""

import dataclasses
import datetime
import hashlib
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from supportmesh.commerce.v1 import commerce_pb2 as pb

from . import mapping
from .adapters.sqlite_store import AuditRow, SqliteStore, StoredAnswer
from .domain import ids, write_rules
from .domain.errors import InvalidArgument, KeyReused, NeedsApproval, NotFound, PermissionDenied, PolicyViolation
from .domain.model import Case, Customer, Order, Variant, to_cents, to_dollars

MAX_KEY_LEN = 128
MAX_APPROVER_LEN = 100
# The one kind of case whose action a person can approve (ApproveCase): a refund above the approval limit.
APPROVABLE_REASON, APPROVABLE_ACTION = "refund_above_limit", "issue_refund"
OK = "OK"
FAILED_PRECONDITION = "FAILED_PRECONDITION"


@dataclass(frozen=True)
class WriteCall:
    """Who asks for which write, under which key, for which ticket and trace."""

    caller: str
    rpc: str
    request: Message
    trace_id: str = ""

    @property
    def key(self) -> str:
        return self.request.idempotency_key.strip()

    @property
    def ticket_id(self) -> str:
        return self.request.ticket_id.strip()


@dataclass(frozen=True)
class Answer:
    """The answer to a write: OK with the serialized response, or a policy refusal; `replayed` for repeats."""

    status_code: str
    details: str
    response: bytes
    case_id: str = ""
    replayed: bool = False


@dataclass(frozen=True)
class _Applied:
    response: Message
    detail: str
    order_id: str
    customer_id: str
    before: Any
    after: Any


class CommerceWrites:
    """The write RPCs over one SQLite connection used by one thread at a time."""

    def __init__(self, store: SqliteStore, refund_limit_cents: int,
                 new_case_id: Callable[[], str] = lambda: "CASE-" + uuid.uuid4().hex[:12].upper()) -> None:
        self._store = store
        self._limit = refund_limit_cents
        self._new_case_id = new_case_id

    # --- the RPCs ---------------------------------------------------------------------------------

    def cancel_pending_order(self, call: WriteCall) -> Answer:
        r: pb.CancelPendingOrderRequest = call.request
        return self._order_write(call, r.customer_id, r.order_id,
                                 lambda o, c, _: write_rules.cancel_pending_order(o, c, r.reason))

    def modify_pending_order_address(self, call: WriteCall) -> Answer:
        r: pb.ModifyPendingOrderAddressRequest = call.request
        return self._order_write(call, r.customer_id, r.order_id, lambda o, c, _: (
            write_rules.modify_pending_order_address(o, mapping.address_of(r.address))))

    def modify_pending_order_items(self, call: WriteCall) -> Answer:
        r: pb.ModifyPendingOrderItemsRequest = call.request
        return self._order_write(call, r.customer_id, r.order_id,
                                 lambda o, c, s: write_rules.modify_pending_order_items(
                                     o, c, list(r.item_ids), list(r.new_item_ids), _variants(s, r.new_item_ids),
                                     r.payment_method_id))

    def modify_pending_order_payment(self, call: WriteCall) -> Answer:
        r: pb.ModifyPendingOrderPaymentRequest = call.request
        return self._order_write(call, r.customer_id, r.order_id,
                                 lambda o, c, _: write_rules.modify_pending_order_payment(o, c, r.payment_method_id))

    def return_delivered_order_items(self, call: WriteCall) -> Answer:
        r: pb.ReturnDeliveredOrderItemsRequest = call.request
        return self._order_write(call, r.customer_id, r.order_id,
                                 lambda o, c, _: write_rules.return_delivered_order_items(
                                     o, c, list(r.item_ids), r.payment_method_id))

    def exchange_delivered_order_items(self, call: WriteCall) -> Answer:
        r: pb.ExchangeDeliveredOrderItemsRequest = call.request
        return self._order_write(call, r.customer_id, r.order_id,
                                 lambda o, c, s: write_rules.exchange_delivered_order_items(
                                     o, c, list(r.item_ids), list(r.new_item_ids), _variants(s, r.new_item_ids),
                                     r.payment_method_id))

    def issue_refund(self, call: WriteCall) -> Answer:
        r: pb.IssueRefundRequest = call.request
        if r.amount < 0:
            raise InvalidArgument("amount must not be negative")

        def decide(order: Order, customer: Customer, store: SqliteStore) -> write_rules.Change:
            try:
                return write_rules.issue_refund(order, customer, list(r.item_ids), to_cents(r.amount),
                                                r.payment_method_id, self._limit)
            except write_rules.OverLimit as over:
                case = self._case(call, reason="refund_above_limit", priority="high", status="pending_approval",
                                  customer_id=customer.customer_id, order_id=order.order_id,
                                  amount_cents=over.amount_cents, payment_method_id=over.payment_method_id,
                                  summary=(f"Refund of ${to_dollars(over.amount_cents):,.2f} on order "
                                           f"{order.order_id} to {over.payment_method_id} awaits approval: it is "
                                           f"above the ${to_dollars(over.limit_cents):,.2f} limit. "
                                           f"Reason given: {r.reason.strip() or 'none'}."))
                store.insert_case(case)
                raise NeedsApproval(
                    f"A refund of ${to_dollars(over.amount_cents):,.2f} on order {order.order_id} is above the "
                    f"${to_dollars(over.limit_cents):,.2f} limit that can be refunded without approval, so it was "
                    f"not made: case {case.case_id} asks a member of staff to approve it.", case.case_id) from None

        return self._order_write(call, r.customer_id, r.order_id, decide)

    def approve_case(self, call: WriteCall) -> Answer:
        """A person approved the action a pending-approval case names: make exactly that action, close the case.

        The case is re-read inside the write transaction, so two approvals under different keys cannot both pass
        the pending check: the second is refused (and audited) and the refund is made once.
        """
        r: pb.ApproveCaseRequest = call.request
        case_id, agent, action = r.case_id.strip(), " ".join(r.approved_by.split()), r.action.strip()
        if not case_id:
            raise InvalidArgument("case_id is required")
        if not agent:
            raise InvalidArgument("approved_by is required: the audit names the person who approved")
        if len(agent) > MAX_APPROVER_LEN:
            raise InvalidArgument(f"approved_by is longer than {MAX_APPROVER_LEN} characters")
        first = self._store.case(case_id)
        if first is None:
            raise NotFound(f"case {case_id} not found")
        if first.ticket_id != call.ticket_id:
            raise PermissionDenied(f"case {case_id} was opened for another ticket than {call.ticket_id or 'none'}")
        if first.reason != APPROVABLE_REASON or not first.order_id or not first.customer_id:
            raise InvalidArgument(f"case {case_id} ({first.reason}) names no action to approve")

        def decide(order: Order, customer: Customer, store: SqliteStore) -> write_rules.Change:
            case = store.case(case_id)
            assert case is not None
            if case.approved_by:
                raise PolicyViolation(f"Case {case_id} was already approved by {case.approved_by} at "
                                      f"{case.approved_at}: its action was made then and is not made again.")
            if case.status != "pending_approval":
                raise PolicyViolation(f"Case {case_id} is {case.status}: there is nothing to approve.")
            if action != APPROVABLE_ACTION:
                raise PolicyViolation(f"Case {case_id} awaits approval of {APPROVABLE_ACTION}, not "
                                      f"{action or 'nothing'}; only the action a case names can be approved.")
            # The approval lifts the limit for this case's refund only; every other rule of the policy still holds
            # (the order may have changed since the case was opened).
            change = write_rules.issue_refund(order, customer, [], case.amount_cents, case.payment_method_id,
                                              limit_cents=max(case.amount_cents, self._limit))
            store.approve_case(case_id, agent, _now())
            return change

        return self._order_write(call, first.customer_id, first.order_id, decide,
                                 detail=lambda change: f"case {case_id} approved by {agent}: {change.summary}")

    def modify_customer_address(self, call: WriteCall) -> Answer:
        r: pb.ModifyCustomerAddressRequest = call.request

        def act(store: SqliteStore) -> _Applied:
            customer = _customer(store, r.customer_id)
            change = write_rules.modify_customer_address(customer, mapping.address_of(r.address))
            assert change.customer is not None
            store.save_customer_address(change.customer)
            after = store.customer(customer.customer_id)
            return _Applied(mapping.action_result_pb(call.rpc, change, None, after), change.summary, "",
                            customer.customer_id, _plain(customer), _plain(after))

        return self._execute(call, act)

    def create_case(self, call: WriteCall) -> Answer:
        r: pb.CreateCaseRequest = call.request
        reason, priority, summary = write_rules.check_case(r.reason, r.priority, r.summary)
        customer_id = ids.customer_id(r.customer_id) if r.customer_id.strip() else ""
        order_id = ids.order_id(r.order_id) if r.order_id.strip() else ""

        def act(store: SqliteStore) -> _Applied:
            if customer_id and store.customer(customer_id) is None:
                raise NotFound(f"customer {customer_id} not found")
            case = self._case(call, reason=reason, priority=priority, status="open", summary=summary,
                              customer_id=customer_id, order_id=order_id)
            store.insert_case(case)
            return _Applied(mapping.case_pb(case), f"case {case.case_id} opened ({reason}, {priority})",
                            order_id, customer_id, None, _plain(case))

        return self._execute(call, act)

    # --- the machinery ----------------------------------------------------------------------------

    def _order_write(self, call: WriteCall, customer_id: str, order_id: str,
                     decide: Callable[[Order, Customer, SqliteStore], write_rules.Change],
                     detail: Callable[[write_rules.Change], str] | None = None) -> Answer:
        """A write on one of the verified customer's orders: load, decide, apply, re-read."""
        cid, oid = ids.customer_id(customer_id), ids.order_id(order_id)

        def act(store: SqliteStore) -> _Applied:
            customer = _customer(store, cid)
            order = store.order(oid)
            if order is None:
                raise NotFound(f"order {oid} not found")
            if order.customer_id != cid:
                raise PermissionDenied(f"order {oid} does not belong to customer {cid}")
            before = {"order": _plain(order), "payment_methods": _plain(customer.payment_methods)}
            try:
                change = decide(order, customer, store)
            except PolicyViolation as exc:
                exc.before = before  # the audit entry of a refusal shows the state it was refused in
                raise
            if change.order is not None:
                store.save_order(change.order)
            for pm_id, cents in change.balance_deltas.items():
                store.add_to_balance(cid, pm_id, cents)
            order_after, customer_after = store.order(oid), store.customer(cid)
            return _Applied(mapping.action_result_pb(call.rpc, change, order_after, None),
                            detail(change) if detail else change.summary, oid, cid, before,
                            {"order": _plain(order_after), "payment_methods": _plain(customer_after.payment_methods)})

        return self._execute(call, act, order_id=oid, customer_id=cid)

    def _execute(self, call: WriteCall, act: Callable[[SqliteStore], _Applied], order_id: str = "",
                 customer_id: str = "") -> Answer:
        key = call.key
        if not key:
            raise InvalidArgument("idempotency_key is required for every write")
        if len(key) > MAX_KEY_LEN:
            raise InvalidArgument(f"idempotency_key is longer than {MAX_KEY_LEN} characters")
        fingerprint = hashlib.sha256(call.rpc.encode() + b"\0"
                                     + call.request.SerializeToString(deterministic=True)).hexdigest()
        request_json = json_format.MessageToJson(call.request, preserving_proto_field_name=True, indent=None)
        with self._store.transaction():
            prior = self._store.stored_answer(call.caller, key)
            if prior is not None:
                if prior.fingerprint != fingerprint:
                    raise KeyReused(f"idempotency_key {key[:40]!r} was already used by {call.caller} for a "
                                    f"different {prior.rpc} request")
                return Answer(prior.status_code, prior.details, prior.response, prior.case_id, replayed=True)
            try:
                applied = act(self._store)
            except PolicyViolation as exc:
                case_id = exc.case_id if isinstance(exc, NeedsApproval) else ""
                outcome = "pending_approval" if case_id else "refused"
                after = {"case": _plain(self._store.case(case_id))} if case_id else None
                self._audit(call, outcome, str(exc), order_id, customer_id, request_json,
                            getattr(exc, "before", None), after)
                answer = Answer(FAILED_PRECONDITION, str(exc), b"", case_id)
            else:
                self._audit(call, "done", applied.detail, applied.order_id or order_id,
                            applied.customer_id or customer_id, request_json, applied.before, applied.after)
                answer = Answer(OK, "", applied.response.SerializeToString(deterministic=True))
            self._store.store_answer(call.caller, key, StoredAnswer(
                rpc=call.rpc, fingerprint=fingerprint, status_code=answer.status_code, details=answer.details,
                response=answer.response, case_id=answer.case_id))
            return answer

    def _audit(self, call: WriteCall, outcome: str, detail: str, order_id: str, customer_id: str,
               request_json: str, before: Any, after: Any) -> None:
        self._store.insert_audit(AuditRow(
            audit_id=0, at=_now(), caller=call.caller, rpc=call.rpc, ticket_id=call.ticket_id,
            trace_id=call.trace_id, idempotency_key=call.key, outcome=outcome, detail=detail, order_id=order_id,
            customer_id=customer_id, request_json=request_json, before_json=_json(before),
            after_json=_json(after)))

    def _case(self, call: WriteCall, *, reason: str, priority: str, status: str, summary: str,
              customer_id: str, order_id: str, amount_cents: int = 0, payment_method_id: str = "") -> Case:
        return Case(case_id=self._new_case_id(), status=status, reason=reason, priority=priority, summary=summary,
                    ticket_id=call.ticket_id, trace_id=call.trace_id, customer_id=customer_id, order_id=order_id,
                    amount_cents=amount_cents, created_by=call.caller, created_at=_now(),
                    payment_method_id=payment_method_id)


def _customer(store: SqliteStore, customer_id: str) -> Customer:
    cid = ids.customer_id(customer_id)
    customer = store.customer(cid)
    if customer is None:
        raise NotFound(f"customer {cid} not found")
    return customer


def _variants(store: SqliteStore, item_ids: Iterable[str]) -> dict[str, Variant]:
    return {i: v for i in item_ids if (v := store.variant(i.strip())) is not None}


def _plain(value: Any) -> Any:
    """Dataclasses (and tuples of them) as JSON-ready values."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"))


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")
