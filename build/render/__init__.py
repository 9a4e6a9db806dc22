"""Render: statements as one-page PDFs, web pages and viewer fragments, with their QR codes."""
