"""The pykubelet benchmark: `.venv/bin/python -m bench` (see README, "Benchmarks")."""
