"""Paged lists of the web screens (archive, «Журнал», «Пользователи», «Ход передачи»): the
page a query asks for, the bookmarkable URL of a filter and page, and what the shared pager
(templates/_pager.html) shows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import urlencode

MAX_PAGE = 100_000


def page_number(raw: str | None) -> int:
    """The `page` query parameter: 1 … MAX_PAGE, 1 for anything else."""
    try:
        return max(1, min(int(raw or 1), MAX_PAGE))
    except ValueError:
        return 1


def page_url(path: str, values: Mapping[str, str], page: int = 1) -> str:
    """`path` with the non-empty values (and the page after the first) as its query."""
    query = {k: v for k, v in values.items() if v}
    if page > 1:
        query["page"] = str(page)
    return path + (f"?{urlencode(query)}" if query else "")


def page_numbers(current: int, pages: int) -> list[int | None]:
    """1 … current±2 … last; None marks a gap."""
    shown = sorted({1, pages, *range(max(1, current - 2), min(pages, current + 2) + 1)})
    out: list[int | None] = []
    for n in shown:
        if out and n - (out[-1] or 0) > 1:
            out.append(None)
        out.append(n)
    return out


def paging(page: int, total: int, per_page: int, url: Callable[[int], str]) -> dict:
    """The pager's context: page, pages (at least 1), the numbered links (None: a gap) and the
    previous and next pages' URLs (None at either end)."""
    pages = max(1, -(-total // per_page))
    return {
        "page": page,
        "pages": pages,
        "page_links": [(n, url(n) if n else None)
                       for n in page_numbers(min(page, pages), pages)],
        "previous_url": url(page - 1) if page > 1 else None,
        "next_url": url(page + 1) if page < pages else None,
    }
