"""The portal's pages, one module per page group; portal/urls.py routes to them (errors: Django's handlers)."""
