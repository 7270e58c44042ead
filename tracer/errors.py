"""Every failure a user can cause is a TracerError with a one-line message.

The CLI prints ``Error: <message>`` on stderr and exits 1; ``--debug`` shows
the traceback.  Library callers catch the specific kinds.
"""


class TracerError(Exception):
    """Base of every error tracer reports to a user as one line."""


class RegistryError(TracerError):
    """Missing, corrupt or foreign registry, or a refused registry change."""


class KeyError_(TracerError):
    """Missing, malformed or wrong key."""


class AccountError(TracerError):
    """Unknown or duplicate account."""


class InputError(TracerError):
    """A file tracer cannot read: empty, binary, undecodable, ragged, no usable column."""


class OutputError(TracerError):
    """An output that cannot be written."""
