"""Verification: sign each entry into a statement and write the private verification index."""
