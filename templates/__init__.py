"""Jinja2 templates and static assets for statements, bundles and the public site."""
