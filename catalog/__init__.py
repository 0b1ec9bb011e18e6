"""Portfolios, products, versions, constraints, access grants and launches (issues 3 and 4)."""
