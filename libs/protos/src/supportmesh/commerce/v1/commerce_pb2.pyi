from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Address(_message.Message):
    __slots__ = ("address1", "address2", "city", "state", "country", "zip")
    ADDRESS1_FIELD_NUMBER: _ClassVar[int]
    ADDRESS2_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    ZIP_FIELD_NUMBER: _ClassVar[int]
    address1: str
    address2: str
    city: str
    state: str
    country: str
    zip: str
    def __init__(self, address1: _Optional[str] = ..., address2: _Optional[str] = ..., city: _Optional[str] = ..., state: _Optional[str] = ..., country: _Optional[str] = ..., zip: _Optional[str] = ...) -> None: ...

class PaymentMethod(_message.Message):
    __slots__ = ("id", "source", "brand", "last_four", "balance")
    ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    BRAND_FIELD_NUMBER: _ClassVar[int]
    LAST_FOUR_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    id: str
    source: str
    brand: str
    last_four: str
    balance: float
    def __init__(self, id: _Optional[str] = ..., source: _Optional[str] = ..., brand: _Optional[str] = ..., last_four: _Optional[str] = ..., balance: _Optional[float] = ...) -> None: ...

class Customer(_message.Message):
    __slots__ = ("customer_id", "first_name", "last_name", "email", "address", "payment_methods", "order_ids")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHODS_FIELD_NUMBER: _ClassVar[int]
    ORDER_IDS_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    first_name: str
    last_name: str
    email: str
    address: Address
    payment_methods: _containers.RepeatedCompositeFieldContainer[PaymentMethod]
    order_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, customer_id: _Optional[str] = ..., first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., email: _Optional[str] = ..., address: _Optional[_Union[Address, _Mapping]] = ..., payment_methods: _Optional[_Iterable[_Union[PaymentMethod, _Mapping]]] = ..., order_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class OrderItem(_message.Message):
    __slots__ = ("name", "product_id", "item_id", "price", "options")
    class OptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    product_id: str
    item_id: str
    price: float
    options: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., product_id: _Optional[str] = ..., item_id: _Optional[str] = ..., price: _Optional[float] = ..., options: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Fulfillment(_message.Message):
    __slots__ = ("tracking_ids", "item_ids")
    TRACKING_IDS_FIELD_NUMBER: _ClassVar[int]
    ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    tracking_ids: _containers.RepeatedScalarFieldContainer[str]
    item_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tracking_ids: _Optional[_Iterable[str]] = ..., item_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class Payment(_message.Message):
    __slots__ = ("transaction_type", "amount", "payment_method_id")
    TRANSACTION_TYPE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    transaction_type: str
    amount: float
    payment_method_id: str
    def __init__(self, transaction_type: _Optional[str] = ..., amount: _Optional[float] = ..., payment_method_id: _Optional[str] = ...) -> None: ...

class Order(_message.Message):
    __slots__ = ("order_id", "customer_id", "status", "address", "items", "fulfillments", "payment_history", "total", "cancel_reason", "return_item_ids", "return_payment_method_id", "exchange_item_ids", "exchange_new_item_ids", "exchange_payment_method_id", "exchange_price_difference")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    FULFILLMENTS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_HISTORY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REASON_FIELD_NUMBER: _ClassVar[int]
    RETURN_ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    RETURN_PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_NEW_ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_PRICE_DIFFERENCE_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    customer_id: str
    status: str
    address: Address
    items: _containers.RepeatedCompositeFieldContainer[OrderItem]
    fulfillments: _containers.RepeatedCompositeFieldContainer[Fulfillment]
    payment_history: _containers.RepeatedCompositeFieldContainer[Payment]
    total: float
    cancel_reason: str
    return_item_ids: _containers.RepeatedScalarFieldContainer[str]
    return_payment_method_id: str
    exchange_item_ids: _containers.RepeatedScalarFieldContainer[str]
    exchange_new_item_ids: _containers.RepeatedScalarFieldContainer[str]
    exchange_payment_method_id: str
    exchange_price_difference: float
    def __init__(self, order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., status: _Optional[str] = ..., address: _Optional[_Union[Address, _Mapping]] = ..., items: _Optional[_Iterable[_Union[OrderItem, _Mapping]]] = ..., fulfillments: _Optional[_Iterable[_Union[Fulfillment, _Mapping]]] = ..., payment_history: _Optional[_Iterable[_Union[Payment, _Mapping]]] = ..., total: _Optional[float] = ..., cancel_reason: _Optional[str] = ..., return_item_ids: _Optional[_Iterable[str]] = ..., return_payment_method_id: _Optional[str] = ..., exchange_item_ids: _Optional[_Iterable[str]] = ..., exchange_new_item_ids: _Optional[_Iterable[str]] = ..., exchange_payment_method_id: _Optional[str] = ..., exchange_price_difference: _Optional[float] = ...) -> None: ...

class Variant(_message.Message):
    __slots__ = ("item_id", "options", "available", "price")
    class OptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    options: _containers.ScalarMap[str, str]
    available: bool
    price: float
    def __init__(self, item_id: _Optional[str] = ..., options: _Optional[_Mapping[str, str]] = ..., available: bool = ..., price: _Optional[float] = ...) -> None: ...

class Product(_message.Message):
    __slots__ = ("product_id", "name", "variants")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VARIANTS_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    name: str
    variants: _containers.RepeatedCompositeFieldContainer[Variant]
    def __init__(self, product_id: _Optional[str] = ..., name: _Optional[str] = ..., variants: _Optional[_Iterable[_Union[Variant, _Mapping]]] = ...) -> None: ...

class FindCustomerByEmailRequest(_message.Message):
    __slots__ = ("email",)
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    email: str
    def __init__(self, email: _Optional[str] = ...) -> None: ...

class FindCustomerByNameZipRequest(_message.Message):
    __slots__ = ("first_name", "last_name", "zip")
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    ZIP_FIELD_NUMBER: _ClassVar[int]
    first_name: str
    last_name: str
    zip: str
    def __init__(self, first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., zip: _Optional[str] = ...) -> None: ...

class GetCustomerRequest(_message.Message):
    __slots__ = ("customer_id",)
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    def __init__(self, customer_id: _Optional[str] = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ("order_id", "customer_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    customer_id: str
    def __init__(self, order_id: _Optional[str] = ..., customer_id: _Optional[str] = ...) -> None: ...

class ListOrdersRequest(_message.Message):
    __slots__ = ("customer_id",)
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    def __init__(self, customer_id: _Optional[str] = ...) -> None: ...

class ListOrdersResponse(_message.Message):
    __slots__ = ("orders",)
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[Order]
    def __init__(self, orders: _Optional[_Iterable[_Union[Order, _Mapping]]] = ...) -> None: ...

class GetTrackingRequest(_message.Message):
    __slots__ = ("order_id", "customer_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    customer_id: str
    def __init__(self, order_id: _Optional[str] = ..., customer_id: _Optional[str] = ...) -> None: ...

class Tracking(_message.Message):
    __slots__ = ("order_id", "status", "tracking_ids")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TRACKING_IDS_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    status: str
    tracking_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, order_id: _Optional[str] = ..., status: _Optional[str] = ..., tracking_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetProductRequest(_message.Message):
    __slots__ = ("product_id",)
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    def __init__(self, product_id: _Optional[str] = ...) -> None: ...

class ListProductsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ProductSummary(_message.Message):
    __slots__ = ("product_id", "name")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    name: str
    def __init__(self, product_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ListProductsResponse(_message.Message):
    __slots__ = ("products",)
    PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    products: _containers.RepeatedCompositeFieldContainer[ProductSummary]
    def __init__(self, products: _Optional[_Iterable[_Union[ProductSummary, _Mapping]]] = ...) -> None: ...

class CancelPendingOrderRequest(_message.Message):
    __slots__ = ("idempotency_key", "ticket_id", "customer_id", "order_id", "reason")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    ticket_id: str
    customer_id: str
    order_id: str
    reason: str
    def __init__(self, idempotency_key: _Optional[str] = ..., ticket_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., order_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ModifyPendingOrderAddressRequest(_message.Message):
    __slots__ = ("idempotency_key", "ticket_id", "customer_id", "order_id", "address")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    ticket_id: str
    customer_id: str
    order_id: str
    address: Address
    def __init__(self, idempotency_key: _Optional[str] = ..., ticket_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., order_id: _Optional[str] = ..., address: _Optional[_Union[Address, _Mapping]] = ...) -> None: ...

class ModifyPendingOrderItemsRequest(_message.Message):
    __slots__ = ("idempotency_key", "ticket_id", "customer_id", "order_id", "item_ids", "new_item_ids", "payment_method_id")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    NEW_ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    ticket_id: str
    customer_id: str
    order_id: str
    item_ids: _containers.RepeatedScalarFieldContainer[str]
    new_item_ids: _containers.RepeatedScalarFieldContainer[str]
    payment_method_id: str
    def __init__(self, idempotency_key: _Optional[str] = ..., ticket_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., order_id: _Optional[str] = ..., item_ids: _Optional[_Iterable[str]] = ..., new_item_ids: _Optional[_Iterable[str]] = ..., payment_method_id: _Optional[str] = ...) -> None: ...

class ModifyPendingOrderPaymentRequest(_message.Message):
    __slots__ = ("idempotency_key", "ticket_id", "customer_id", "order_id", "payment_method_id")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    ticket_id: str
    customer_id: str
    order_id: str
    payment_method_id: str
    def __init__(self, idempotency_key: _Optional[str] = ..., ticket_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., order_id: _Optional[str] = ..., payment_method_id: _Optional[str] = ...) -> None: ...

class ModifyCustomerAddressRequest(_message.Message):
    __slots__ = ("idempotency_key", "ticket_id", "customer_id", "address")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    ticket_id: str
    customer_id: str
    address: Address
    def __init__(self, idempotency_key: _Optional[str] = ..., ticket_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., address: _Optional[_Union[Address, _Mapping]] = ...) -> None: ...

class ReturnDeliveredOrderItemsRequest(_message.Message):
    __slots__ = ("idempotency_key", "ticket_id", "customer_id", "order_id", "item_ids", "payment_method_id")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    ticket_id: str
    customer_id: str
    order_id: str
    item_ids: _containers.RepeatedScalarFieldContainer[str]
    payment_method_id: str
    def __init__(self, idempotency_key: _Optional[str] = ..., ticket_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., order_id: _Optional[str] = ..., item_ids: _Optional[_Iterable[str]] = ..., payment_method_id: _Optional[str] = ...) -> None: ...

class ExchangeDeliveredOrderItemsRequest(_message.Message):
    __slots__ = ("idempotency_key", "ticket_id", "customer_id", "order_id", "item_ids", "new_item_ids", "payment_method_id")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    NEW_ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    ticket_id: str
    customer_id: str
    order_id: str
    item_ids: _containers.RepeatedScalarFieldContainer[str]
    new_item_ids: _containers.RepeatedScalarFieldContainer[str]
    payment_method_id: str
    def __init__(self, idempotency_key: _Optional[str] = ..., ticket_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., order_id: _Optional[str] = ..., item_ids: _Optional[_Iterable[str]] = ..., new_item_ids: _Optional[_Iterable[str]] = ..., payment_method_id: _Optional[str] = ...) -> None: ...

class IssueRefundRequest(_message.Message):
    __slots__ = ("idempotency_key", "ticket_id", "customer_id", "order_id", "item_ids", "amount", "payment_method_id", "reason")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    ticket_id: str
    customer_id: str
    order_id: str
    item_ids: _containers.RepeatedScalarFieldContainer[str]
    amount: float
    payment_method_id: str
    reason: str
    def __init__(self, idempotency_key: _Optional[str] = ..., ticket_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., order_id: _Optional[str] = ..., item_ids: _Optional[_Iterable[str]] = ..., amount: _Optional[float] = ..., payment_method_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ActionResult(_message.Message):
    __slots__ = ("action", "summary", "order", "customer", "amount", "payment_method_id", "refund_immediate")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_IMMEDIATE_FIELD_NUMBER: _ClassVar[int]
    action: str
    summary: str
    order: Order
    customer: Customer
    amount: float
    payment_method_id: str
    refund_immediate: bool
    def __init__(self, action: _Optional[str] = ..., summary: _Optional[str] = ..., order: _Optional[_Union[Order, _Mapping]] = ..., customer: _Optional[_Union[Customer, _Mapping]] = ..., amount: _Optional[float] = ..., payment_method_id: _Optional[str] = ..., refund_immediate: bool = ...) -> None: ...

class Case(_message.Message):
    __slots__ = ("case_id", "status", "reason", "priority", "summary", "ticket_id", "trace_id", "customer_id", "order_id", "amount", "created_by", "created_at", "payment_method_id", "approved_by", "approved_at")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    APPROVED_BY_FIELD_NUMBER: _ClassVar[int]
    APPROVED_AT_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    status: str
    reason: str
    priority: str
    summary: str
    ticket_id: str
    trace_id: str
    customer_id: str
    order_id: str
    amount: float
    created_by: str
    created_at: str
    payment_method_id: str
    approved_by: str
    approved_at: str
    def __init__(self, case_id: _Optional[str] = ..., status: _Optional[str] = ..., reason: _Optional[str] = ..., priority: _Optional[str] = ..., summary: _Optional[str] = ..., ticket_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., order_id: _Optional[str] = ..., amount: _Optional[float] = ..., created_by: _Optional[str] = ..., created_at: _Optional[str] = ..., payment_method_id: _Optional[str] = ..., approved_by: _Optional[str] = ..., approved_at: _Optional[str] = ...) -> None: ...

class CreateCaseRequest(_message.Message):
    __slots__ = ("idempotency_key", "ticket_id", "customer_id", "order_id", "reason", "priority", "summary")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    ticket_id: str
    customer_id: str
    order_id: str
    reason: str
    priority: str
    summary: str
    def __init__(self, idempotency_key: _Optional[str] = ..., ticket_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., order_id: _Optional[str] = ..., reason: _Optional[str] = ..., priority: _Optional[str] = ..., summary: _Optional[str] = ...) -> None: ...

class GetCaseRequest(_message.Message):
    __slots__ = ("case_id",)
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    def __init__(self, case_id: _Optional[str] = ...) -> None: ...

class ApproveCaseRequest(_message.Message):
    __slots__ = ("idempotency_key", "ticket_id", "case_id", "action", "approved_by")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    APPROVED_BY_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    ticket_id: str
    case_id: str
    action: str
    approved_by: str
    def __init__(self, idempotency_key: _Optional[str] = ..., ticket_id: _Optional[str] = ..., case_id: _Optional[str] = ..., action: _Optional[str] = ..., approved_by: _Optional[str] = ...) -> None: ...

class AuditEntry(_message.Message):
    __slots__ = ("audit_id", "at", "caller", "rpc", "ticket_id", "trace_id", "idempotency_key", "outcome", "detail", "request_json", "before_json", "after_json", "order_id", "customer_id")
    AUDIT_ID_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    RPC_FIELD_NUMBER: _ClassVar[int]
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    REQUEST_JSON_FIELD_NUMBER: _ClassVar[int]
    BEFORE_JSON_FIELD_NUMBER: _ClassVar[int]
    AFTER_JSON_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    audit_id: int
    at: str
    caller: str
    rpc: str
    ticket_id: str
    trace_id: str
    idempotency_key: str
    outcome: str
    detail: str
    request_json: str
    before_json: str
    after_json: str
    order_id: str
    customer_id: str
    def __init__(self, audit_id: _Optional[int] = ..., at: _Optional[str] = ..., caller: _Optional[str] = ..., rpc: _Optional[str] = ..., ticket_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., outcome: _Optional[str] = ..., detail: _Optional[str] = ..., request_json: _Optional[str] = ..., before_json: _Optional[str] = ..., after_json: _Optional[str] = ..., order_id: _Optional[str] = ..., customer_id: _Optional[str] = ...) -> None: ...

class ListAuditRequest(_message.Message):
    __slots__ = ("ticket_id", "idempotency_key", "order_id", "customer_id", "limit")
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    ticket_id: str
    idempotency_key: str
    order_id: str
    customer_id: str
    limit: int
    def __init__(self, ticket_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListAuditResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[AuditEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[AuditEntry, _Mapping]]] = ...) -> None: ...
