"""The intent classifier's local engine: loading the trained artifact and classifying a ticket's text."""
