"""Development tools run from the source checkout (not installed with the package)."""
