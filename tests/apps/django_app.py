"""A one-file Django project: `spawning tests.apps.django_app:application`."""
import django
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.urls import path

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="spawning-tests-only",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        USE_TZ=True,
    )
    django.setup()


def index(request):
    return HttpResponse("Hello from Django\n", content_type="text/plain")


def echo(request):
    return JsonResponse({"method": request.method,
                         "path": request.path,
                         "get": request.GET.dict(),
                         "body": request.body.decode("latin-1")})


urlpatterns = [path("", index), path("echo", echo)]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
