"""Key management: signing keys, the public keyset, the pepper and the statement secret."""
