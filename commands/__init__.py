"""The ``results`` command: the thin edge that parses arguments and prints errors."""
