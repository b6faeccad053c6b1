"""Clickar URLs: /clickar/<contract id>/ starts or resumes; one URL per step after it."""

from django.urls import path

from . import views

app_name = "renewals"
urlpatterns = [
    path("<int:contract_id>/", views.start, name="start"),
    path("<int:contract_id>/referred/", views.referred, name="referred"),
    path("<int:contract_id>/complete/", views.complete, name="complete"),
    path("<int:contract_id>/moushikomi.pdf", views.receipt_pdf, name="receipt_pdf"),
    path("<int:contract_id>/<slug:slug>/", views.step, name="step"),
]
