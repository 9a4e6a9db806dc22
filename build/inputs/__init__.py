"""Inputs: read and validate a series folder into a typed ``Series``."""
