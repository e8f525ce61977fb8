"""Thin, typed layers over the remote APIs (JD Cloud, Linkflow). See STYLE.md §2-4."""
