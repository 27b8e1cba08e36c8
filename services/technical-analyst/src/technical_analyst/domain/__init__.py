"""Pure domain code of the technical analyst: the store policy as code and the technical diagnosis."""

STAGE = "technical-analyst"   # where its handoff summaries say the ticket was escalated
# Told the customer when a write commerce was asked for failed: a person finishes it.
NOT_COMPLETED = ("We could not complete your request automatically, so a member of our team will finish it and "
                 "reply to you.")
