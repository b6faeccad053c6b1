from django.contrib import admin
from django.urls import include, path

from keizoku.accounts import urls as accounts_urls
from keizoku.accounts import views as accounts_views
from keizoku.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("livez", core_views.livez, name="livez"),
    path("metrics", core_views.metrics_view, name="metrics"),
    path("i18n/setlang/", accounts_views.language_set, name="set_language"),
    path("agency/", include("keizoku.contracts.urls")),
    path("mypage/", include("keizoku.accounts.urls")),
    path("mypage/", include(accounts_urls.allauth_urlpatterns)),
    path("clickar/", include("keizoku.renewals.urls")),
    path("help/", include("keizoku.help.urls")),
    path("chat/", include("keizoku.chat.urls")),
    path("backoffice/", include("keizoku.backoffice.urls")),
    path("dev/", include("keizoku.notifications.urls")),
    path("admin/", admin.site.urls),
]

handler400 = core_views.bad_request
handler403 = core_views.permission_denied
handler404 = core_views.page_not_found
handler500 = core_views.server_error
