"""The benchmark (``make bench``): settings, reference views and the driver. Never installed in production."""
