"""Seeded generators of the committed sample data sets, one module per entry."""
