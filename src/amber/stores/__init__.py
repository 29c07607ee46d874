"""Store adapters: the embedded qdrant-edge shard and the qdrant-client server store."""
