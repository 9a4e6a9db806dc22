"""Results Online: signed, encrypted Statements of Results as static files."""

__version__ = "0.1.0"
