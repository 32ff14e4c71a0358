"""Search over all opinions: Whoosh schema, Chinese analyzer, outbox sync, query building."""
