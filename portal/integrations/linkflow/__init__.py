"""Linkflow CDP Open API (spec `000_4116c674cbf50519.txt`): token, errors, the client."""
