"""Read models: a pure projection, its tables, the writer, the catch-up runner, queries."""
