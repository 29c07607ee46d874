"""Services: memory write path, search, cache, catalogue, router, context, transfer, eval."""
