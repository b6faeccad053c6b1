"""Clickar URLs: /clickar/<contract id>/ starts or resumes; one URL per step after it."""

from django.urls import path

from . import views

app_name = "renewals"
urlpatterns = [
    path("<id:contract_id>/", views.start, name="start"),
    path("<id:contract_id>/referred/", views.referred, name="referred"),
    path("<id:contract_id>/complete/", views.complete, name="complete"),
    path("<id:contract_id>/moushikomi.pdf", views.receipt_pdf, name="receipt_pdf"),
    path("<id:contract_id>/<slug:slug>/", views.step, name="step"),
]
