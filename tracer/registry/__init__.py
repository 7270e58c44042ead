"""The registry, behind one small interface (``Registry``): the only code that speaks SQL.

``store`` holds the Registry itself, ``records`` what it hands out, ``schema`` the tables and their
migrations, ``history`` the keyed chain through the export entries.  A server
database would take the place of this package, nothing else.
"""

from .records import Account, CodeParams, Export, RegisteredKey, now_iso
from .store import Registry

__all__ = ["Account", "CodeParams", "Export", "RegisteredKey", "Registry", "now_iso"]
