"""Domain objects to the protobuf messages of supportmesh.commerce.v1 (money leaves as dollars)."""

from supportmesh.commerce.v1 import commerce_pb2 as pb

from .adapters.sqlite_store import AuditRow
from .domain.model import Address, Case, Customer, Order, Product, Tracking, to_dollars
from .domain.write_rules import Change


def address_pb(a: Address) -> pb.Address:
    return pb.Address(address1=a.address1, address2=a.address2, city=a.city, state=a.state,
                      country=a.country, zip=a.zip)


def customer_pb(c: Customer) -> pb.Customer:
    return pb.Customer(
        customer_id=c.customer_id, first_name=c.first_name, last_name=c.last_name, email=c.email,
        address=address_pb(c.address),
        payment_methods=[
            pb.PaymentMethod(id=m.id, source=m.source, brand=m.brand, last_four=m.last_four,
                             balance=to_dollars(m.balance_cents or 0))
            for m in c.payment_methods
        ],
        order_ids=list(c.order_ids),
    )


def order_pb(o: Order) -> pb.Order:
    return pb.Order(
        order_id=o.order_id, customer_id=o.customer_id, status=o.status, address=address_pb(o.address),
        items=[pb.OrderItem(name=i.name, product_id=i.product_id, item_id=i.item_id,
                            price=to_dollars(i.price_cents), options=dict(i.options)) for i in o.items],
        fulfillments=[pb.Fulfillment(tracking_ids=list(f.tracking_ids), item_ids=list(f.item_ids))
                      for f in o.fulfillments],
        payment_history=[pb.Payment(transaction_type=p.transaction_type, amount=to_dollars(p.amount_cents),
                                    payment_method_id=p.payment_method_id) for p in o.payments],
        total=to_dollars(o.total_cents),
        cancel_reason=o.cancel_reason, return_item_ids=list(o.return_item_ids),
        return_payment_method_id=o.return_payment_method_id, exchange_item_ids=list(o.exchange_item_ids),
        exchange_new_item_ids=list(o.exchange_new_item_ids),
        exchange_payment_method_id=o.exchange_payment_method_id,
        exchange_price_difference=to_dollars(o.exchange_price_diff_cents),
    )


def address_of(a: pb.Address) -> Address:
    return Address(address1=a.address1, address2=a.address2, city=a.city, state=a.state, country=a.country,
                   zip=a.zip)


def product_pb(p: Product) -> pb.Product:
    return pb.Product(product_id=p.product_id, name=p.name, variants=[
        pb.Variant(item_id=v.item_id, options=dict(v.options), available=v.available,
                   price=to_dollars(v.price_cents)) for v in p.variants])


def action_result_pb(rpc: str, change: Change, order: Order | None, customer: Customer | None) -> pb.ActionResult:
    result = pb.ActionResult(action=rpc, summary=change.summary, amount=to_dollars(change.amount_cents),
                             payment_method_id=change.payment_method_id, refund_immediate=change.refund_immediate)
    if order is not None:
        result.order.CopyFrom(order_pb(order))
    if customer is not None:
        result.customer.CopyFrom(customer_pb(customer))
    return result


def case_pb(c: Case) -> pb.Case:
    return pb.Case(case_id=c.case_id, status=c.status, reason=c.reason, priority=c.priority, summary=c.summary,
                   ticket_id=c.ticket_id, trace_id=c.trace_id, customer_id=c.customer_id, order_id=c.order_id,
                   amount=to_dollars(c.amount_cents), created_by=c.created_by, created_at=c.created_at,
                   payment_method_id=c.payment_method_id, approved_by=c.approved_by, approved_at=c.approved_at)


def audit_pb(r: AuditRow) -> pb.AuditEntry:
    return pb.AuditEntry(
        audit_id=r.audit_id, at=r.at, caller=r.caller, rpc=r.rpc, ticket_id=r.ticket_id, trace_id=r.trace_id,
        idempotency_key=r.idempotency_key, outcome=r.outcome, detail=r.detail, request_json=r.request_json,
        before_json=r.before_json, after_json=r.after_json, order_id=r.order_id, customer_id=r.customer_id)


def tracking_pb(t: Tracking) -> pb.Tracking:
    return pb.Tracking(order_id=t.order_id, status=t.status, tracking_ids=list(t.tracking_ids))
