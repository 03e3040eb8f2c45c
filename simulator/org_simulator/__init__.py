"""A simulated organisation and the vendor APIs that serve it, for demos and tests."""
