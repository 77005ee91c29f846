"""The analytical store: Ibis connection per backend, schema and the writer's append."""
