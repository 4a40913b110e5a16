from django.apps import AppConfig


class ReferenceConfig(AppConfig):
    name = "benchmarks.reference"
    label = "bench_reference"
    default_auto_field = "django.db.models.BigAutoField"
