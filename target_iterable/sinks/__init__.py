"""Thin SDK sinks: ``ObjectSink`` over each object's adapter, ``MessagesSink`` over several."""
