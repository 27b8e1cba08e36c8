from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class HopRecord(_message.Message):
    __slots__ = ("start_unix_nanos", "trace_id", "span_id", "parent_id", "service", "action", "duration_ns", "outcome", "error_message", "ticket_id", "conversation_id", "kafka_topic", "kafka_partition", "kafka_offset", "intent", "confidence", "engine", "model", "tokens_in", "tokens_out", "cost_usd", "retries", "escalation_reason", "fault", "destination", "span_kind", "labels", "message")
    class FaultEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    START_UNIX_NANOS_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    DURATION_NS_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    KAFKA_TOPIC_FIELD_NUMBER: _ClassVar[int]
    KAFKA_PARTITION_FIELD_NUMBER: _ClassVar[int]
    KAFKA_OFFSET_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TOKENS_IN_FIELD_NUMBER: _ClassVar[int]
    TOKENS_OUT_FIELD_NUMBER: _ClassVar[int]
    COST_USD_FIELD_NUMBER: _ClassVar[int]
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    ESCALATION_REASON_FIELD_NUMBER: _ClassVar[int]
    FAULT_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    SPAN_KIND_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    start_unix_nanos: int
    trace_id: str
    span_id: str
    parent_id: str
    service: str
    action: str
    duration_ns: int
    outcome: str
    error_message: str
    ticket_id: str
    conversation_id: str
    kafka_topic: str
    kafka_partition: int
    kafka_offset: int
    intent: str
    confidence: float
    engine: str
    model: str
    tokens_in: int
    tokens_out: int
    cost_usd: float
    retries: int
    escalation_reason: str
    fault: _containers.ScalarMap[str, str]
    destination: str
    span_kind: str
    labels: _containers.ScalarMap[str, str]
    message: str
    def __init__(self, start_unix_nanos: _Optional[int] = ..., trace_id: _Optional[str] = ..., span_id: _Optional[str] = ..., parent_id: _Optional[str] = ..., service: _Optional[str] = ..., action: _Optional[str] = ..., duration_ns: _Optional[int] = ..., outcome: _Optional[str] = ..., error_message: _Optional[str] = ..., ticket_id: _Optional[str] = ..., conversation_id: _Optional[str] = ..., kafka_topic: _Optional[str] = ..., kafka_partition: _Optional[int] = ..., kafka_offset: _Optional[int] = ..., intent: _Optional[str] = ..., confidence: _Optional[float] = ..., engine: _Optional[str] = ..., model: _Optional[str] = ..., tokens_in: _Optional[int] = ..., tokens_out: _Optional[int] = ..., cost_usd: _Optional[float] = ..., retries: _Optional[int] = ..., escalation_reason: _Optional[str] = ..., fault: _Optional[_Mapping[str, str]] = ..., destination: _Optional[str] = ..., span_kind: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., message: _Optional[str] = ...) -> None: ...
