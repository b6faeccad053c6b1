from django.urls import include, path

from . import session_views, views

app_name = "accounts"
urlpatterns = [
    path("", views.top, name="top"),
    path("renewals/", views.renewals, name="renewals"),
    path("policies/link/", views.policy_link, name="policy_link"),
    path("policies/<id:link_id>/unlink/", views.policy_unlink, name="policy_unlink"),
    path("register/", views.register_start, name="register"),
    path("register/terms/", views.register_terms, name="register_terms"),
    path("register/form/", views.register_form, name="register_form"),
    path("register/address/", views.register_address, name="register_address"),
    path("register/confirm/", views.register_confirm, name="register_confirm"),
    path("register/accepted/", views.register_accepted, name="register_accepted"),
    path("register/complete/<str:token>/", views.register_link, name="register_link"),
    path("register/password/", views.register_password, name="register_password"),
    path("register/done/", views.register_done, name="register_done"),
    path("session/extend/", session_views.session_extend, name="session_extend"),
]

# allauth's pages live under /mypage/ too: login/, logout/, password/reset/, password/change/,
# email/, reauthenticate/, 2fa/, sessions/ (its signup stays closed: registration is ours).
allauth_urlpatterns = [path("", include("allauth.urls"))]
