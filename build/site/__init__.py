"""Site: the public static pages and the statement ciphertext a CDN serves."""
