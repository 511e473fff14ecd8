"""The API's reading docs (Redoc) under the site's Content-Security-Policy.

Redoc's bundle needs three things the site's policy does not give, so this view alone adds them
(no 'unsafe-inline', no 'unsafe-eval'; every other page keeps the plain policy):

- style-src: a per-request nonce, which the template hands to Redoc (its `nonce` option) for the
  <style> elements styled-components writes at run time; and the hashes of the fixed <style>
  elements the bundle writes as it loads, before Redoc can be given the nonce (an empty one and
  two of the bundle's own CSS). A new Redoc version changes them: tests/browser/test_csp.py
  then fails, naming the new hashes.
- worker-src blob: Redoc's search index runs in a Web Worker made from a blob: URL, which only
  the page's own scripts can create.

The nonce is fresh on every answer: never cache this page.
"""

from csp.constants import NONCE
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView

REDOC_STYLE_HASHES = [
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # an empty <style>
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
    "'sha256-gKrFzVc62a0n1dJQHXHpKH7BPusVb7U3Aoj/3p44MbU='",
]
REDOC_POLICY = {"style-src": [NONCE, *REDOC_STYLE_HASHES], "worker-src": ["'self'", "blob:"]}


class RedocView(SpectacularRedocView):
    """drf-spectacular's Redoc page with a style nonce for Redoc's own <style> elements."""

    template_name = "api/redoc.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response._csp_update = REDOC_POLICY  # what django-csp's csp_update decorator sets
        response["Cache-Control"] = "no-store"
        return response
