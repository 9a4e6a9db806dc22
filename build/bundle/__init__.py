"""Bundles: each centre's results, statements, overview and explanation, encrypted with age."""
