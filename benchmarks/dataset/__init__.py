"""The synthetic evidence library the benchmarks and load tests run on: ``python -m benchmarks.dataset``.

``vocabulary`` holds the words and sentence templates, ``generator`` builds and writes the library, and
``command`` is the command line (``__main__`` runs it).
"""
