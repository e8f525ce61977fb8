"""Models of the reports app (see PRODUCT.md)."""
