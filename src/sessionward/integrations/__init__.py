"""Thin shells that translate a framework's request and response for the manager."""
