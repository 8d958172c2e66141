"""Pure record → Iterable payload mapping: no I/O, table-testable."""
