"""The REST API under /api/ (docs/api.md): read what readers read, write what your role allows.

serializers.py shapes records, views.py reads through the pages' querysets and FilterSets and writes
through the services, permissions.py names the pages' permissions per action, errors.py makes every error
JSON, throttling.py limits request rates, schema.py documents the error answers in the OpenAPI schema.
"""
