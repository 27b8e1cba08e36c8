"""Domain objects to the protobuf messages of supportmesh.commerce.v1 (money leaves as dollars)."""

from supportmesh.commerce.v1 import commerce_pb2 as pb

from .domain.model import Address, Customer, Order, Tracking, to_dollars


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
    )


def tracking_pb(t: Tracking) -> pb.Tracking:
    return pb.Tracking(order_id=t.order_id, status=t.status, tracking_ids=list(t.tracking_ids))
