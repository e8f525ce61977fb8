"""Models of the crowds app (see PRODUCT.md)."""
