"""Pure retriever logic: article preparation, query building, result shaping and the lookup flow."""
