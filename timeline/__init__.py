"""The application: storage, projections (read models), audit and the command line."""

__version__ = "0.1.0"
