"""One adapter per Iterable object: how its records become requests (see ``base.py``)."""
