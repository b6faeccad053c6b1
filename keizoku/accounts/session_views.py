"""【延長】: the warning before an idle logout extends the session by a POST (with CSRF)."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from . import authn


@require_POST
def session_extend(request: HttpRequest) -> JsonResponse:
    """The session middleware already counted this request as activity; say what is left."""
    if not request.user.is_authenticated:
        return JsonResponse({"expired": True}, status=401)
    authn.session_touch(request, force=True)
    times = authn.session_times(request)
    return JsonResponse(
        {
            "idle": max(0, min(times.idle_left, times.absolute_left)),
            "absolute": max(0, times.absolute_left),
        }
    )
