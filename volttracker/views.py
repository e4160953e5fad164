"""The site's own small answers (the apps' pages live in the apps)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico whatever a page links: send them to the site's icon, not to a 404.

    Resolved per request, not at import: the production static storage reads its manifest to name the file.
    """
    return HttpResponsePermanentRedirect(static("volttracker/favicon.svg"))
