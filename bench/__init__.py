"""`make bench`: a realistic billing dataset, load scenarios and a bare-stack baseline.

__main__.py  `python -m bench run|data|profile`: one entry, embedded PostgreSQL started and stopped
data.py      `python -m bench data --scale N`: the dataset, by COPY, in its own database
driver.py    the asyncio/httpx load driver (virtual users with their own cookies and CSRF)
baseline.py  the bare-stack grid: one raw asyncpg query + the same template, no middleware
runner.py    `python -m bench run`: starts the servers, runs the scenarios, writes var/bench/
"""
