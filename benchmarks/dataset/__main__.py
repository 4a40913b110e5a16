"""``python -m benchmarks.dataset --help``: fill the database in DATABASE_URL with the synthetic library.

Django's settings come from DJANGO_SETTINGS_MODULE (evidence.settings when unset), as for manage.py.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evidence.settings")
    import django

    django.setup()
    from benchmarks.dataset.command import Command

    Command().run_from_argv(["python -m", "benchmarks.dataset", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
