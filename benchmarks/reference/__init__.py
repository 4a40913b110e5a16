"""The benchmark's reference table: the floor a page is compared with (benchmarks/views.py).

Installed only by benchmarks/bench_settings.py, so production and the test suite never have the table.
"""
