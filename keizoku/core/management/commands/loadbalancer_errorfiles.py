"""manage.py loadbalancer_errorfiles DIR: the page the load balancer answers by itself.

When no web host can answer (every host down, or one dying in the middle of a request), the load
balancer must still give the customer the Japanese 503 page rather than its own English one.
This writes it as a raw HTTP response, ``DIR/503.http``, for HAProxy's ``errorfile`` (502, 503
and 504: config/haproxy.cfg). A deploy step, run with each release beside collectstatic.
"""

from pathlib import Path

from django.core.management.base import BaseCommand
from django.template.loader import render_to_string
from django.utils import translation

HEAD = (
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Cache-Control: no-store\r\n"
    "Retry-After: 30\r\n"
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Connection: close\r\n"
)


def errorfile() -> bytes:
    with translation.override("ja"):
        body = render_to_string("core/loadbalancer_503.html").encode()
    return (HEAD + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


class Command(BaseCommand):
    help = "Write the load balancer's Japanese 503 page (DIR/503.http) for HAProxy's errorfile."

    def add_arguments(self, parser):
        parser.add_argument("directory")

    def handle(self, *args, directory: str, **options):
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        (target / "503.http").write_bytes(errorfile())
        self.stdout.write(f"wrote {target / '503.http'}")
