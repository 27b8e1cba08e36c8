"""Pure domain code of the technical analyst: the store policy as code and the technical diagnosis."""
