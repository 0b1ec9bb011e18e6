"""The browsable API, allowed the inline style attributes of DRF's own templates (floats, widths) by the
Content-Security-Policy of its pages only; scripts stay 'self' there as everywhere."""

from rest_framework import renderers


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response._csp_update = {"style-src": ["'unsafe-inline'"]}  # read by csp.middleware.CSPMiddleware
        return super().render(data, accepted_media_type, renderer_context)
