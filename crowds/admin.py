"""Admin of the crowds app."""
