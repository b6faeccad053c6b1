import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Build the chat's search index while the worker boots, not on its first question.
from keizoku.chat.retrieval import index  # noqa: E402 (needs the apps loaded above)

index()
