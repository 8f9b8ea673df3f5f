"""`python -m app bench` (placeholder while the runner is written)."""


def register(sub) -> None:
    pass
