"""Pure domain logic of the intent classifier: model, entities, sentiment, priority, workflows, handoffs."""
