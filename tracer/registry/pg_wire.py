"""Talking to the server: connecting with one-line errors, and binary COPY built by numpy.

Separate from ``postgres`` (what the registry stores) because both the
registry and ``migrate`` send bulk digests, and because every message here
must name the server without its password.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import psycopg

from ..errors import RegistryError
from .base import redacted

CONNECT_TIMEOUT_S = 10
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8  # binary COPY: signature, flags, no extension


def reason(exc: Exception) -> str:
    """libpq's message, first line, without its 'connection to server at ... failed:' preamble."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = text.rpartition("failed: ")[2] or text
    return text.removeprefix("FATAL:").strip()


def copy_binary(copy: psycopg.Copy, batches: Iterable[tuple[np.ndarray, ...]]) -> None:
    """Send batches of rows of bigint columns as one binary COPY stream: header, the rows, trailer."""
    copy.write(_COPY_HEADER)
    for columns in batches:
        copy.write(binary_rows(*columns))
    copy.write(b"\xff\xff")


def binary_rows(*columns: np.ndarray) -> bytes:
    """Rows of bigint columns in PostgreSQL's binary COPY format, built by numpy, not one by one."""
    fields = [("fields", ">i2")]
    for i in range(len(columns)):
        fields += [(f"size{i}", ">i4"), (f"value{i}", ">i8")]
    rows = np.empty(len(columns[0]), dtype=np.dtype(fields))
    rows["fields"] = len(columns)
    for i, column in enumerate(columns):
        rows[f"size{i}"], rows[f"value{i}"] = 8, column
    return rows.tobytes()




def raw_connect(url: str) -> psycopg.Connection:
    """An autocommit connection (tracer opens its transactions itself); psycopg's errors as they are."""
    return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, application_name="tracer")


def connect(url: str) -> psycopg.Connection:
    """``raw_connect``, its failure one ``RegistryError`` line."""
    try:
        return raw_connect(url)
    except psycopg.Error as exc:
        raise RegistryError(f"cannot connect to registry {redacted(url)}: {reason(exc)}") from None
