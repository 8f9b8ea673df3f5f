"""Named async queries, one module per aggregate."""
