"""The Python prototype's `loader` package, kept name for name and shape for shape, now
backed by real sandboxes through the aurora-jail command line (see docs/migrating.md).
Put python/compat (and python) on sys.path instead of the prototype's directory."""
