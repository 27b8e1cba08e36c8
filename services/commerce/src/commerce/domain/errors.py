"""Why a store request failed, in domain terms; the gRPC layer maps each kind to a status code."""


class CommerceError(Exception):
    """A request the store refuses; the message is safe to show the caller."""


class InvalidArgument(CommerceError):
    """The request is malformed (missing or badly formed ids, e-mails, names)."""


class NotFound(CommerceError):
    """The customer or order does not exist."""


class PermissionDenied(CommerceError):
    """The order exists but belongs to a different customer than the verified one."""


class PolicyViolation(CommerceError):
    """The store policy forbids the write; the message says which rule, in words a reply can quote."""


class NeedsApproval(PolicyViolation):
    """A refund above the approval limit: not executed; a pending-approval case was opened instead."""

    def __init__(self, message: str, case_id: str) -> None:
        super().__init__(message)
        self.case_id = case_id


class KeyReused(CommerceError):
    """An idempotency key that already served a different request."""


class Ambiguous(CommerceError):
    """More than one customer matches; the caller must identify the customer another way."""
