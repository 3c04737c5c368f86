"""Proof of the record: a Merkle tree over the log (RFC 9162), checkpoints, proofs, keys."""
