"""ASGI entry point for uvicorn: `uvicorn app.asgi:app`."""

import gc

from app.web import create_app

app = create_app()

# What the import built (modules, the app, its routes) lives as long as the process: move it
# out of the cyclic GC's sight, so that a full collection scans only what requests allocate.
# A 10 000-row upload triggers several full collections; this cut its CPU by about a quarter
# (docs/benchmarks.md, «upload»). Done here, not in create_app: tests build many apps in one
# process and must not pin their garbage.
gc.collect()
gc.freeze()
