"""The catalog's pages, one module per page group; catalog/urls.py routes to them."""
