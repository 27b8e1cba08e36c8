"""Pure compression logic: fact extraction, salient log lines, extractive summary, the token budget."""
