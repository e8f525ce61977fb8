"""Models of the campaigns app (see PRODUCT.md)."""
