"""CloudTrail log object keys and streaming log-file reading (no Django, no boto3)."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import re
import zlib
from dataclasses import dataclass
from typing import BinaryIO, Iterator

import ijson

__all__ = ["BadLogFile", "LogKey", "parse_key", "iter_records"]

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 64 * 1024

_KEY_RE = re.compile(
    r"^(?:(?P<prefix>.+)/)?AWSLogs/"
    r"(?:(?P<org>o-[a-z0-9]{10,32})/)?"
    r"(?P<account>\d{12})/CloudTrail/"
    r"(?P<region>[a-z0-9][a-z0-9-]*)/"
    r"(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/"
    r"(?P<file>[^/]+\.json\.gz)$"
)


class BadLogFile(Exception):
    """The log file cannot be (fully) read; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LogKey:
    account_id: str
    region: str
    date: dt.date
    org_id: str | None = None
    prefix: str = ""
    filename: str = ""


def parse_key(key: str) -> LogKey | None:
    """Parse ``[prefix/]AWSLogs/[o-org/]<acct>/CloudTrail/<region>/YYYY/MM/DD/<f>.json.gz``.

    Returns None for anything outside that layout (digests, insights, other files).
    """
    m = _KEY_RE.match(key or "")
    if not m:
        return None
    try:
        date = dt.date(int(m["y"]), int(m["m"]), int(m["d"]))
    except ValueError:
        return None
    return LogKey(
        account_id=m["account"],
        region=m["region"],
        date=date,
        org_id=m["org"],
        prefix=m["prefix"] or "",
        filename=m["file"],
    )


class _Truncated(Exception):
    pass


class _Corrupt(Exception):
    pass


class _Reader(io.RawIOBase):
    """Byte reader over ``stream`` with already-read bytes pushed back in front.

    Translates gzip errors into private exceptions so they survive ijson.
    """

    def __init__(self, stream, head: bytes = b""):
        self._stream = stream
        self._head = head

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size is None or size < 0:
                data, self._head = self._head, b""
                return data + self._raw_read(-1)
            data, self._head = self._head[:size], self._head[size:]
            return data
        return self._raw_read(size)

    def _raw_read(self, size) -> bytes:
        try:
            return self._stream.read(size if size is not None else -1) or b""
        except (_Truncated, _Corrupt):
            raise
        except EOFError as exc:
            raise _Truncated(str(exc) or "compressed stream ended early") from exc
        except (gzip.BadGzipFile, zlib.error) as exc:
            raise _Corrupt(str(exc)) from exc

    def readinto(self, b) -> int:  # pragma: no cover - ijson uses read()
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


_WS = b" \t\r\n"
_BOM = b"\xef\xbb\xbf"
_RECORDS_FIRST = re.compile(rb'^\{\s*"Records"\s*:\s*(?P<value>.)', re.S)


def _peek_start(reader: _Reader) -> tuple[bytes, bytes]:
    """Read a little (>= 256 significant bytes or to EOF).

    Returns (all bytes consumed, significant head without leading whitespace/BOM).
    """
    consumed = b""
    while True:
        chunk = reader.read(_CHUNK)
        consumed += chunk
        head = consumed.lstrip(_WS)
        if head.startswith(_BOM):
            head = head[3:].lstrip(_WS)
        if not chunk or len(head) >= 256:
            return consumed, head


def iter_records(stream: BinaryIO) -> Iterator[dict]:
    """Yield CloudTrail records one by one from a gzip or plain file object.

    Accepts ``{"Records": [...]}``, a bare JSON array, or JSON lines.  Never loads
    the whole file.  Records read before a problem are yielded, then
    :class:`BadLogFile` is raised.
    """
    outer = _Reader(stream)
    magic = b""
    try:
        while len(magic) < 2:
            more = outer.read(2 - len(magic))
            if not more:
                break
            magic += more
    except (_Truncated, _Corrupt) as exc:  # pragma: no cover - plain read failed
        raise BadLogFile(f"unreadable stream: {exc}") from None

    is_gzip = magic == _GZIP_MAGIC
    if is_gzip:
        gz = gzip.GzipFile(fileobj=_Reader(stream, magic), mode="rb")
        reader = _Reader(gz)
    else:
        reader = _Reader(stream, magic)

    count = 0
    try:
        consumed, head = _peek_start(reader)
        if not head:
            raise BadLogFile("empty file: no JSON value")
        body = _Reader(reader, consumed)
        first = head[:1]
        rec_match = _RECORDS_FIRST.match(head)
        if first == b"[":
            mode, items = "array", ijson.items(body, "item", use_float=True)
        elif rec_match:
            if rec_match["value"] != b"[":
                raise BadLogFile("Records is not an array")
            mode, items = "records", ijson.items(body, "Records.item", use_float=True)
        elif first == b"{":
            mode, items = "lines", ijson.items(body, "", multiple_values=True, use_float=True)
        elif first in b'"-0123456789' or head.startswith((b"true", b"false", b"null")):
            raise BadLogFile("top level is neither a Records object nor an array")
        else:
            raise BadLogFile(f"not JSON: starts with {head[:20]!r}")

        for item in items:
            if not isinstance(item, dict):
                if mode == "lines":
                    raise BadLogFile(
                        "top level is neither a Records object nor an array "
                        f"(top-level value after {count} records is {type(item).__name__})"
                    )
                raise BadLogFile(f"record {count} is not an object ({type(item).__name__})")
            if mode == "lines" and "Records" in item and "eventName" not in item:
                # a Records object whose "Records" key is not first: not streamed
                recs = item["Records"]
                if not isinstance(recs, list):
                    raise BadLogFile("Records is not an array")
                for rec in recs:
                    if not isinstance(rec, dict):
                        raise BadLogFile(f"record {count} is not an object ({type(rec).__name__})")
                    count += 1
                    yield rec
                continue
            count += 1
            yield item
    except _Truncated as exc:
        raise BadLogFile(f"truncated gzip: {exc} (after {count} records)") from None
    except _Corrupt as exc:
        raise BadLogFile(f"corrupt gzip: {exc} (after {count} records)") from None
    except ijson.IncompleteJSONError as exc:
        msg = " ".join(str(exc).split())
        if "premature EOF" in msg or "Incomplete" in msg:
            raise BadLogFile(f"truncated JSON: {msg} (after {count} records)") from None
        raise BadLogFile(f"not JSON: {msg} (after {count} records)") from None
    except ijson.JSONError as exc:
        raise BadLogFile(f"not JSON: {' '.join(str(exc).split())} (after {count} records)") from None
    except UnicodeDecodeError as exc:
        raise BadLogFile(f"not JSON: invalid UTF-8 ({exc})") from None

