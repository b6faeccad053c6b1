from django.urls import path

from . import views

app_name = "agency"
urlpatterns = [
    path("<str:agency_code>/", views.agency_home, name="home"),
    path("<str:agency_code>/auto/", views.agency_auto, name="auto"),
    path("<str:agency_code>/auto/clickar/", views.agency_clickar, name="clickar"),
]
