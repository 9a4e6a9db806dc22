"""The batch build: one module per stage, chained by ``pipeline.build``."""
