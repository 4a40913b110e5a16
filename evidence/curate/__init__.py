"""The curator's workspace at /curate/: bibliography imports, the library's to-do lists, possible
duplicates, and linking a study to a claim from the claim's page (views.py, templates/evidence/curate/).

Who may: the Curators group's permissions (reviews/migrations/0003_roles.py), the same ones the admin's
study and citation pages and the API check.
"""

# the workspace, its imports and its lists: who may add studies and link them
CURATE = ("evidence.add_study", "evidence.add_citation")
# linking a study to a claim (the "Link a study" link on a claim's page)
LINK_STUDY = ("evidence.add_citation",)
