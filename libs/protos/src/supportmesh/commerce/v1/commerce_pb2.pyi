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
    __slots__ = ("order_id", "customer_id", "status", "address", "items", "fulfillments", "payment_history", "total")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    FULFILLMENTS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_HISTORY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    customer_id: str
    status: str
    address: Address
    items: _containers.RepeatedCompositeFieldContainer[OrderItem]
    fulfillments: _containers.RepeatedCompositeFieldContainer[Fulfillment]
    payment_history: _containers.RepeatedCompositeFieldContainer[Payment]
    total: float
    def __init__(self, order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., status: _Optional[str] = ..., address: _Optional[_Union[Address, _Mapping]] = ..., items: _Optional[_Iterable[_Union[OrderItem, _Mapping]]] = ..., fulfillments: _Optional[_Iterable[_Union[Fulfillment, _Mapping]]] = ..., payment_history: _Optional[_Iterable[_Union[Payment, _Mapping]]] = ..., total: _Optional[float] = ...) -> None: ...

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
