"""One sink per Iterable object, all on :class:`IterableSink`."""
