"""The batch build: stage groups as sub-packages, chained by ``pipeline.build``."""
