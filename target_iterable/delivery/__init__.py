"""The delivery core: context, admission, batching, sending, recovery and accounting."""
