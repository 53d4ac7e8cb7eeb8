"""A tenant app of the tenant-scale bench only (``bench/scale_settings.py``): something for
``migrate_tenants`` to apply in every schema. Its migrations are written by the bench into a
directory of its own (``BENCH_SCALE_MIGRATIONS``), so that a run can add one and take it back."""
