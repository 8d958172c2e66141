"""A local HTTP emulator of Iterable's REST API, for tests, benchmarks and demos.

Laid out like moto's service emulators: ``store`` holds the state and
Iterable's rules, ``responses`` translates HTTP into store calls, ``urls`` is
the route table, and ``faults``/``limits`` are the switches that make the
emulator misbehave the way the real service does. The target never imports
this package.
"""
