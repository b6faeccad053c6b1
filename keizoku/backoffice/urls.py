"""Back-office URLs (/backoffice/): every view but login and logout is behind staff_required."""

from django.urls import path

from . import auth, unanswered, views

app_name = "backoffice"

# Views reachable without a staff session (the URL test checks that nothing else is).
PUBLIC = {"login", "logout"}

urlpatterns = [
    path("login/", auth.staff_login, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("mfa/setup/", views.mfa_setup, name="mfa_setup"),
    path("", views.dashboard, name="dashboard"),
    path("contracts/", views.contract_list, name="contract_list"),
    path("contracts/<id:pk>/", views.contract_detail, name="contract_detail"),
    path("applications/", views.application_list, name="application_list"),
    path("applications/<id:pk>/", views.application_detail, name="application_detail"),
    *[
        path(
            f"applications/<id:pk>/{action}/",
            views.application_action,
            {"action": action},
            name=f"application_{action}",
        )
        for action in ("accept", "refer", "withdraw")
    ],
    path("exports/", views.export_index, name="exports"),
    path("exports/applications.csv", views.export_applications, name="export_applications"),
    path(
        "exports/applications/cp932/",
        views.export_applications_cp932,
        name="export_applications_cp932",
    ),
    path("exports/payroll/<id:pk>.csv", views.export_payroll, name="export_payroll"),
    path("exports/payroll/<id:pk>/cp932/", views.export_payroll_cp932, name="export_payroll_cp932"),
    path("imports/", views.import_upload, name="import_upload"),
    path("imports/confirm/", views.import_confirm, name="import_confirm"),
    path("imports/<hex:token>/", views.import_status, name="import_status"),
    path("audit/", views.audit_list, name="audit"),
    path("chat/", unanswered.unanswered_list, name="chat_unanswered"),
    path("chat/resolve/", unanswered.unanswered_resolve, name="chat_unanswered_resolve"),
]
