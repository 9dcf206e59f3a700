"""The sans-I/O core: pure decisions over records, tokens and a clock.

Nothing in this package performs I/O or imports a web framework or database client.
"""
