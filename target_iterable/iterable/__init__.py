"""Iterable's API: the HTTP client, its retries and rate limits, answers, documented limits."""
