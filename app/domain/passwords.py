"""Password policy for registration and password reset."""

from app.domain import N_, Problem

MIN_LENGTH = 10
MAX_LENGTH = 256


def password_problems(password: str, confirm: str) -> list[Problem]:
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(
            Problem(
                "password_too_short",
                N_("Пароль должен содержать не менее {min} символов"),
                {"min": MIN_LENGTH},
            )
        )
    if len(password) > MAX_LENGTH:
        problems.append(
            Problem(
                "password_too_long",
                N_("Пароль должен содержать не более {max} символов"),
                {"max": MAX_LENGTH},
            )
        )
    if password and not password.strip():
        problems.append(
            Problem("password_blank", N_("Пароль не может состоять только из пробелов"))
        )
    if password != confirm:
        problems.append(Problem("password_mismatch", N_("Пароли не совпадают")))
    return problems
