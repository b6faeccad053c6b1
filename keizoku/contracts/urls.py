from django.urls import path

from . import views

app_name = "agency"
urlpatterns = [
    path("<code:agency_code>/", views.agency_home, name="home"),
    path("<code:agency_code>/auto/", views.agency_auto, name="auto"),
    path("<code:agency_code>/auto/clickar/", views.agency_clickar, name="clickar"),
]
