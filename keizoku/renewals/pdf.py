"""申込内容控え: the submitted application as an A4 PDF with an embedded Japanese font (WeasyPrint)."""

import io

from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Application
from .selectors import application_summary


def application_pdf(application: Application) -> io.BytesIO:
    """The same data as the final confirmation page, with the 受付番号 and the time of submission,
    in the member's language (``User.language``), whichever browser asks for it."""
    from weasyprint import (
        HTML,  # imported here: loading Pango takes a while and few requests need it
    )

    with translation.override(application.member.language):
        html = render_to_string(
            "renewals/pdf/application.html",
            {
                **application_summary(application),
                "printed_at": timezone.localtime(),
            },
        )
    buffer = io.BytesIO()
    HTML(string=html).write_pdf(buffer, pdf_variant="pdf/a-3b", uncompressed_pdf=False)
    buffer.seek(0)
    return buffer
