"""Linkflow reports and dashboards (PRODUCT.md §5)."""
