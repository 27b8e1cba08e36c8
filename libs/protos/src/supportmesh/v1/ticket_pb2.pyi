from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Customer(_message.Message):
    __slots__ = ("email", "name", "zip", "customer_id")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ZIP_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    email: str
    name: str
    zip: str
    customer_id: str
    def __init__(self, email: _Optional[str] = ..., name: _Optional[str] = ..., zip: _Optional[str] = ..., customer_id: _Optional[str] = ...) -> None: ...

class Ticket(_message.Message):
    __slots__ = ("ticket_id", "conversation_id", "channel", "customer", "subject", "body", "locale", "received_at", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ticket_id: str
    conversation_id: str
    channel: str
    customer: Customer
    subject: str
    body: str
    locale: str
    received_at: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, ticket_id: _Optional[str] = ..., conversation_id: _Optional[str] = ..., channel: _Optional[str] = ..., customer: _Optional[_Union[Customer, _Mapping]] = ..., subject: _Optional[str] = ..., body: _Optional[str] = ..., locale: _Optional[str] = ..., received_at: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...
