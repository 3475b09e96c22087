"""autoenv: cd into a Python project and its virtual environment is active."""

__version__ = "0.1.0"
