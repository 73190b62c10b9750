"""Widgets of the app, one concept per module; reusable styling in DEFAULT_CSS on theme variables."""
