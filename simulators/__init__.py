"""Simulators: a realistic province of field devices for demos and load tests."""
