"""`make bench`: a realistic billing dataset, load scenarios and a bare-stack baseline.

data.py      `python -m app bench-data --scale N`: the dataset, by COPY, in its own database
driver.py    the asyncio/httpx load driver (virtual users with their own cookies and CSRF)
baseline.py  the bare-stack grid: one raw asyncpg query + the same template, no middleware
runner.py    `python -m app bench`: starts the servers, runs the scenarios, writes var/bench/
"""
