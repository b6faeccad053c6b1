from django.urls import path

from . import views

app_name = "dev"
urlpatterns = [
    path("mailbox/", views.mailbox, name="mailbox"),
    path("mailbox/<id:pk>/", views.mailbox_message, name="mailbox_message"),
]
