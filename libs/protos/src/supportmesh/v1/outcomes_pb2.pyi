from supportmesh.v1 import envelope_pb2 as _envelope_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Reply(_message.Message):
    __slots__ = ("text", "citations")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CITATIONS_FIELD_NUMBER: _ClassVar[int]
    text: str
    citations: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, text: _Optional[str] = ..., citations: _Optional[_Iterable[str]] = ...) -> None: ...

class Response(_message.Message):
    __slots__ = ("ticket_id", "conversation_id", "trace_id", "intent", "category", "priority", "sentiment", "confidence", "reply", "actions", "engine", "latency_ms", "answered_at", "degradations", "in_reply_to", "agent_id")
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    REPLY_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_AT_FIELD_NUMBER: _ClassVar[int]
    DEGRADATIONS_FIELD_NUMBER: _ClassVar[int]
    IN_REPLY_TO_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    ticket_id: str
    conversation_id: str
    trace_id: str
    intent: str
    category: str
    priority: str
    sentiment: float
    confidence: float
    reply: Reply
    actions: _containers.RepeatedCompositeFieldContainer[_envelope_pb2.Action]
    engine: str
    latency_ms: int
    answered_at: str
    degradations: _containers.RepeatedScalarFieldContainer[str]
    in_reply_to: str
    agent_id: str
    def __init__(self, ticket_id: _Optional[str] = ..., conversation_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., intent: _Optional[str] = ..., category: _Optional[str] = ..., priority: _Optional[str] = ..., sentiment: _Optional[float] = ..., confidence: _Optional[float] = ..., reply: _Optional[_Union[Reply, _Mapping]] = ..., actions: _Optional[_Iterable[_Union[_envelope_pb2.Action, _Mapping]]] = ..., engine: _Optional[str] = ..., latency_ms: _Optional[int] = ..., answered_at: _Optional[str] = ..., degradations: _Optional[_Iterable[str]] = ..., in_reply_to: _Optional[str] = ..., agent_id: _Optional[str] = ...) -> None: ...

class Escalation(_message.Message):
    __slots__ = ("ticket_id", "conversation_id", "trace_id", "intent", "priority", "reason", "summary", "case_id", "customer_message", "actions", "category", "confidence", "sentiment", "escalated_by", "latency_ms", "escalated_at")
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_BY_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_AT_FIELD_NUMBER: _ClassVar[int]
    ticket_id: str
    conversation_id: str
    trace_id: str
    intent: str
    priority: str
    reason: str
    summary: str
    case_id: str
    customer_message: str
    actions: _containers.RepeatedCompositeFieldContainer[_envelope_pb2.Action]
    category: str
    confidence: float
    sentiment: float
    escalated_by: str
    latency_ms: int
    escalated_at: str
    def __init__(self, ticket_id: _Optional[str] = ..., conversation_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., intent: _Optional[str] = ..., priority: _Optional[str] = ..., reason: _Optional[str] = ..., summary: _Optional[str] = ..., case_id: _Optional[str] = ..., customer_message: _Optional[str] = ..., actions: _Optional[_Iterable[_Union[_envelope_pb2.Action, _Mapping]]] = ..., category: _Optional[str] = ..., confidence: _Optional[float] = ..., sentiment: _Optional[float] = ..., escalated_by: _Optional[str] = ..., latency_ms: _Optional[int] = ..., escalated_at: _Optional[str] = ...) -> None: ...

class DlqSource(_message.Message):
    __slots__ = ("topic", "partition", "offset", "key")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    topic: str
    partition: int
    offset: int
    key: str
    def __init__(self, topic: _Optional[str] = ..., partition: _Optional[int] = ..., offset: _Optional[int] = ..., key: _Optional[str] = ...) -> None: ...

class DlqRecord(_message.Message):
    __slots__ = ("error", "source", "original_base64", "received_at", "service", "trace_id")
    ERROR_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_BASE64_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    error: str
    source: DlqSource
    original_base64: str
    received_at: str
    service: str
    trace_id: str
    def __init__(self, error: _Optional[str] = ..., source: _Optional[_Union[DlqSource, _Mapping]] = ..., original_base64: _Optional[str] = ..., received_at: _Optional[str] = ..., service: _Optional[str] = ..., trace_id: _Optional[str] = ...) -> None: ...
