"""API v1 for accounting and metering systems (SPEC §8), apart from the hypermedia routes:
bearer tokens (auth.py), typed wire models (schemas.py), RFC 9457 problems (problems.py), the
OpenAPI document and its vendored docs page (docs.py), one controller per resource."""
