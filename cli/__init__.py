"""The `citysense` command: one entry point that dispatches to each service's own module."""
