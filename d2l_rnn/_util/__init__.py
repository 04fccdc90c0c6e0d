"""Helpers the whole package shares: argument checks and crash-safe file writes."""
