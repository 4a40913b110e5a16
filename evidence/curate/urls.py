"""The curator's workspace, under /curate/ (namespace ``curate``)."""

from django.urls import path

from evidence.curate import views

app_name = "curate"

urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("import/", views.import_upload, name="import"),
    path("import/jobs/<int:pk>/", views.import_job, name="job"),
    path("import/jobs/<int:pk>/status/", views.import_job_status, name="job-status"),
    path("todo/duplicates/", views.duplicates, name="duplicates"),
    path("todo/<slug:slug>/", views.todo_list, name="todo"),
    path("studies/<int:study_id>/design/", views.study_classify, name="study-classify"),
    # linking a study to a claim, reached from the claim's page: find the study, then say what it shows
    path("claims/<int:claim_id>/link/", views.link_study, name="link-study"),
    path("claims/<int:claim_id>/link/results/", views.link_study_results, name="link-study-results"),
    path("claims/<int:claim_id>/link/<int:study_id>/", views.link_study_form, name="link-study-form"),
]
