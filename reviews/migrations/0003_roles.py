"""Create the three roles as groups with their model permissions.

Curators build the study library and link studies to claims; Reviewers rate claims (their own reviews
only: the admin and the views narrow "change review" to the reviewer's own); Editors manage articles,
claims and flags and read every review. Admins are superusers.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "Curators": [
        ("evidence", "view_article"),
        ("evidence", "view_articlerevision"),
        ("evidence", "view_claim"),
        ("evidence", "add_study"),
        ("evidence", "change_study"),
        ("evidence", "view_study"),
        ("evidence", "add_citation"),
        ("evidence", "change_citation"),
        ("evidence", "delete_citation"),
        ("evidence", "view_citation"),
        ("reviews", "view_flag"),
    ],
    "Reviewers": [
        ("evidence", "view_article"),
        ("evidence", "view_claim"),
        ("evidence", "view_study"),
        ("evidence", "view_citation"),
        ("reviews", "add_review"),
        ("reviews", "change_review"),
        ("reviews", "view_review"),
    ],
    "Editors": [
        ("evidence", "add_article"),
        ("evidence", "change_article"),
        ("evidence", "view_article"),
        ("evidence", "view_articlerevision"),
        ("evidence", "add_claim"),
        ("evidence", "change_claim"),
        ("evidence", "view_claim"),
        ("evidence", "view_study"),
        ("evidence", "view_citation"),
        ("reviews", "view_review"),
        ("reviews", "view_others_reviews"),
        ("reviews", "add_flag"),
        ("reviews", "change_flag"),
        ("reviews", "view_flag"),
        ("reviews", "view_consensus"),
        ("reviews", "adjudicate_claim"),
        ("reviews", "publish_verdict"),
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations have run; create them now so the groups
    # can hold them on a fresh database.
    for app_label in ("evidence", "reviews"):
        app_config = apps.get_app_config(app_label)
        app_config.models_module = True  # migration app stubs lack it; create_permissions checks it
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in codenames:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("evidence", "0001_initial"),
        ("reviews", "0002_consensus"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
