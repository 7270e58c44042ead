"""The registry, behind one interface (``Registry``, in ``base``): the only code that speaks SQL.

``base`` holds the interface and what both engines share, ``store`` the SQLite
file (the default), ``postgres`` the server database for many export hosts,
``records`` what they hand out, ``schema`` / ``pg_schema`` the tables and their
migrations, ``history`` the keyed chain through the export entries,
``migrate`` the move of a file registry onto a server.
"""

from .base import Registry, is_url, redacted
from .records import Account, CodeParams, Export, RegisteredKey, now_iso

__all__ = ["Account", "CodeParams", "Export", "RegisteredKey", "Registry", "is_url", "now_iso", "redacted"]
