"""Benchmarks at national scale (issue 9): `make bench`, i.e. `python -m bench`.

The method (docs/PERFORMANCE.md tells it at length):

- Data: `seed_bench` at 10,000 and at 100,000 suggestions, each in a PostgreSQL database of its
  own (`bench.database`), created, migrated and seeded when missing or of another size, reused
  otherwise.
- Every figure is a ratio to a floor measured in the same run, so that a loaded machine slows
  both sides alike: the list page against a view returning the same 25 rows from one raw SQL
  query, the annual report against one hand-written GROUP BY, the export against bare openpyxl
  writing the same cells, the import against bare openpyxl parsing the same file.
- Page timings go through Django's test client with the whole middleware stack, DEBUG off; the
  two sizes are measured in alternating blocks in one process (`bench.measure.switch_database`),
  so the growth ratio is not a comparison of two different minutes of a shared machine.
- Every measurement that writes (an import, the reminder scan) runs in a transaction that is
  rolled back: the databases stay at their size.

Modules: `database` (create, migrate, seed), `floors` (the floor views and SQL), `urls` (the
product's URLs plus the floors), `measure` (the measurements; the smoke test calls them on
SQLite), `worker` (one measurement in a subprocess, JSON out), `targets` (the table and its
PASS/FAIL lines), `__main__` (the whole run).
"""
