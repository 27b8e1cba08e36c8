from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ApprovedAction(_message.Message):
    __slots__ = ("case_id", "action")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    action: str
    def __init__(self, case_id: _Optional[str] = ..., action: _Optional[str] = ...) -> None: ...

class AgentReply(_message.Message):
    __slots__ = ("reply_id", "ticket_id", "conversation_id", "agent_id", "text", "approved_actions", "sent_at")
    REPLY_ID_FIELD_NUMBER: _ClassVar[int]
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    APPROVED_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    reply_id: str
    ticket_id: str
    conversation_id: str
    agent_id: str
    text: str
    approved_actions: _containers.RepeatedCompositeFieldContainer[ApprovedAction]
    sent_at: str
    def __init__(self, reply_id: _Optional[str] = ..., ticket_id: _Optional[str] = ..., conversation_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., text: _Optional[str] = ..., approved_actions: _Optional[_Iterable[_Union[ApprovedAction, _Mapping]]] = ..., sent_at: _Optional[str] = ...) -> None: ...
