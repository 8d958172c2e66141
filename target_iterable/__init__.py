"""target-iterable: a Singer target that loads warehouse data into Iterable."""
