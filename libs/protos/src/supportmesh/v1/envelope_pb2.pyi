from supportmesh.v1 import agent_reply_pb2 as _agent_reply_pb2
from supportmesh.v1 import ticket_pb2 as _ticket_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Entity(_message.Message):
    __slots__ = ("type", "value", "start", "end")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    type: str
    value: str
    start: int
    end: int
    def __init__(self, type: _Optional[str] = ..., value: _Optional[str] = ..., start: _Optional[int] = ..., end: _Optional[int] = ...) -> None: ...

class Classification(_message.Message):
    __slots__ = ("intent", "category", "confidence", "sentiment", "flags", "priority", "entities", "workflow", "engine", "alternatives", "family", "family_score")
    INTENT_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    ALTERNATIVES_FIELD_NUMBER: _ClassVar[int]
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    FAMILY_SCORE_FIELD_NUMBER: _ClassVar[int]
    intent: str
    category: str
    confidence: float
    sentiment: float
    flags: _containers.RepeatedScalarFieldContainer[str]
    priority: str
    entities: _containers.RepeatedCompositeFieldContainer[Entity]
    workflow: str
    engine: str
    alternatives: _containers.RepeatedCompositeFieldContainer[IntentScore]
    family: str
    family_score: float
    def __init__(self, intent: _Optional[str] = ..., category: _Optional[str] = ..., confidence: _Optional[float] = ..., sentiment: _Optional[float] = ..., flags: _Optional[_Iterable[str]] = ..., priority: _Optional[str] = ..., entities: _Optional[_Iterable[_Union[Entity, _Mapping]]] = ..., workflow: _Optional[str] = ..., engine: _Optional[str] = ..., alternatives: _Optional[_Iterable[_Union[IntentScore, _Mapping]]] = ..., family: _Optional[str] = ..., family_score: _Optional[float] = ...) -> None: ...

class IntentScore(_message.Message):
    __slots__ = ("intent", "score")
    INTENT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    intent: str
    score: float
    def __init__(self, intent: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class Turn(_message.Message):
    __slots__ = ("role", "text", "ticket_id", "at_unix_ms")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    AT_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    role: str
    text: str
    ticket_id: str
    at_unix_ms: int
    def __init__(self, role: _Optional[str] = ..., text: _Optional[str] = ..., ticket_id: _Optional[str] = ..., at_unix_ms: _Optional[int] = ...) -> None: ...

class CompressedContext(_message.Message):
    __slots__ = ("summary", "facts", "recent_turns", "log_lines", "token_count", "original_token_count", "turn_count")
    class FactsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    RECENT_TURNS_FIELD_NUMBER: _ClassVar[int]
    LOG_LINES_FIELD_NUMBER: _ClassVar[int]
    TOKEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_TOKEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    TURN_COUNT_FIELD_NUMBER: _ClassVar[int]
    summary: str
    facts: _containers.ScalarMap[str, str]
    recent_turns: _containers.RepeatedCompositeFieldContainer[Turn]
    log_lines: _containers.RepeatedScalarFieldContainer[str]
    token_count: int
    original_token_count: int
    turn_count: int
    def __init__(self, summary: _Optional[str] = ..., facts: _Optional[_Mapping[str, str]] = ..., recent_turns: _Optional[_Iterable[_Union[Turn, _Mapping]]] = ..., log_lines: _Optional[_Iterable[str]] = ..., token_count: _Optional[int] = ..., original_token_count: _Optional[int] = ..., turn_count: _Optional[int] = ...) -> None: ...

class Article(_message.Message):
    __slots__ = ("id", "title", "url", "score", "snippet", "steps")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SNIPPET_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    url: str
    score: float
    snippet: str
    steps: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ..., url: _Optional[str] = ..., score: _Optional[float] = ..., snippet: _Optional[str] = ..., steps: _Optional[_Iterable[str]] = ...) -> None: ...

class OrderFacts(_message.Message):
    __slots__ = ("order_id", "status", "tracking_ids", "item_names", "total", "user_id", "payments")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TRACKING_IDS_FIELD_NUMBER: _ClassVar[int]
    ITEM_NAMES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENTS_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    status: str
    tracking_ids: _containers.RepeatedScalarFieldContainer[str]
    item_names: _containers.RepeatedScalarFieldContainer[str]
    total: float
    user_id: str
    payments: _containers.RepeatedCompositeFieldContainer[PaymentLine]
    def __init__(self, order_id: _Optional[str] = ..., status: _Optional[str] = ..., tracking_ids: _Optional[_Iterable[str]] = ..., item_names: _Optional[_Iterable[str]] = ..., total: _Optional[float] = ..., user_id: _Optional[str] = ..., payments: _Optional[_Iterable[_Union[PaymentLine, _Mapping]]] = ...) -> None: ...

class PaymentLine(_message.Message):
    __slots__ = ("transaction_type", "amount", "payment_method")
    TRANSACTION_TYPE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    transaction_type: str
    amount: float
    payment_method: str
    def __init__(self, transaction_type: _Optional[str] = ..., amount: _Optional[float] = ..., payment_method: _Optional[str] = ...) -> None: ...

class PaymentMethodFacts(_message.Message):
    __slots__ = ("id", "description")
    ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    id: str
    description: str
    def __init__(self, id: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class Retrieval(_message.Message):
    __slots__ = ("articles", "customer_id", "customer_name", "orders", "lookup_errors", "payment_methods", "default_address")
    ARTICLES_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_NAME_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    LOOKUP_ERRORS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHODS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    articles: _containers.RepeatedCompositeFieldContainer[Article]
    customer_id: str
    customer_name: str
    orders: _containers.RepeatedCompositeFieldContainer[OrderFacts]
    lookup_errors: _containers.RepeatedScalarFieldContainer[str]
    payment_methods: _containers.RepeatedCompositeFieldContainer[PaymentMethodFacts]
    default_address: str
    def __init__(self, articles: _Optional[_Iterable[_Union[Article, _Mapping]]] = ..., customer_id: _Optional[str] = ..., customer_name: _Optional[str] = ..., orders: _Optional[_Iterable[_Union[OrderFacts, _Mapping]]] = ..., lookup_errors: _Optional[_Iterable[str]] = ..., payment_methods: _Optional[_Iterable[_Union[PaymentMethodFacts, _Mapping]]] = ..., default_address: _Optional[str] = ...) -> None: ...

class Action(_message.Message):
    __slots__ = ("name", "status", "detail", "idempotency_key")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    name: str
    status: str
    detail: str
    idempotency_key: str
    def __init__(self, name: _Optional[str] = ..., status: _Optional[str] = ..., detail: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class Analysis(_message.Message):
    __slots__ = ("diagnosis", "steps", "policy_decision", "policy_reason", "actions", "policy_code")
    DIAGNOSIS_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    POLICY_DECISION_FIELD_NUMBER: _ClassVar[int]
    POLICY_REASON_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    POLICY_CODE_FIELD_NUMBER: _ClassVar[int]
    diagnosis: str
    steps: _containers.RepeatedScalarFieldContainer[str]
    policy_decision: str
    policy_reason: str
    actions: _containers.RepeatedCompositeFieldContainer[Action]
    policy_code: str
    def __init__(self, diagnosis: _Optional[str] = ..., steps: _Optional[_Iterable[str]] = ..., policy_decision: _Optional[str] = ..., policy_reason: _Optional[str] = ..., actions: _Optional[_Iterable[_Union[Action, _Mapping]]] = ..., policy_code: _Optional[str] = ...) -> None: ...

class Envelope(_message.Message):
    __slots__ = ("ticket", "routing_slip", "visited", "received_unix_ms", "deadline_unix_ms", "attempt", "classification", "context", "retrieval", "analysis", "degradations", "trace_id", "agent_reply")
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ROUTING_SLIP_FIELD_NUMBER: _ClassVar[int]
    VISITED_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    CLASSIFICATION_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    RETRIEVAL_FIELD_NUMBER: _ClassVar[int]
    ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    DEGRADATIONS_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_REPLY_FIELD_NUMBER: _ClassVar[int]
    ticket: _ticket_pb2.Ticket
    routing_slip: _containers.RepeatedScalarFieldContainer[str]
    visited: _containers.RepeatedScalarFieldContainer[str]
    received_unix_ms: int
    deadline_unix_ms: int
    attempt: int
    classification: Classification
    context: CompressedContext
    retrieval: Retrieval
    analysis: Analysis
    degradations: _containers.RepeatedScalarFieldContainer[str]
    trace_id: str
    agent_reply: _agent_reply_pb2.AgentReply
    def __init__(self, ticket: _Optional[_Union[_ticket_pb2.Ticket, _Mapping]] = ..., routing_slip: _Optional[_Iterable[str]] = ..., visited: _Optional[_Iterable[str]] = ..., received_unix_ms: _Optional[int] = ..., deadline_unix_ms: _Optional[int] = ..., attempt: _Optional[int] = ..., classification: _Optional[_Union[Classification, _Mapping]] = ..., context: _Optional[_Union[CompressedContext, _Mapping]] = ..., retrieval: _Optional[_Union[Retrieval, _Mapping]] = ..., analysis: _Optional[_Union[Analysis, _Mapping]] = ..., degradations: _Optional[_Iterable[str]] = ..., trace_id: _Optional[str] = ..., agent_reply: _Optional[_Union[_agent_reply_pb2.AgentReply, _Mapping]] = ...) -> None: ...
