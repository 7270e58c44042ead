"""tracer: per-account watermarks for personal-data exports, and the matcher that names a leaker."""

__version__ = "0.1.0"
