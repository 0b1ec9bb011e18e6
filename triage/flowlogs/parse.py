"""VPC flow-log files as AWS delivers them to S3: keys, parsing and rendering (standard library only).

A text flow-log file is gzip text, one record a line, fields separated by spaces, the first line a
header naming the fields (``version account-id interface-id srcaddr ...``).  Without a header the
version 2 default order is assumed.  Rows whose ``log-status`` is NODATA (no traffic in the capture
window) or SKIPDATA (records skipped) have ``-`` in the traffic fields and are counted, not returned.

The hot loop is ``str.split`` and ``int()`` on a fixed layout; anything unusual (other statuses,
``-`` values, a custom layout, malformed rows) falls back to a slower path.
"""

from __future__ import annotations

import datetime as dt
import gc
import gzip
import hashlib
import io
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from operator import itemgetter
from typing import BinaryIO

__all__ = [
    "HEADER",
    "V2_FIELDS",
    "FlowLogKey",
    "FlowRecord",
    "ParseStats",
    "file_key",
    "iter_records",
    "parse_file",
    "parse_key",
    "parse_lines",
    "render_file",
]

V2_FIELDS = (
    "version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
    "protocol", "packets", "bytes", "start", "end", "action", "log-status",
)
HEADER = " ".join(V2_FIELDS)

# Fields a custom format must have to be useful; the others default ("" / 0 / start / OK).
REQUIRED_FIELDS = ("srcaddr", "dstaddr", "srcport", "dstport", "start", "action")
MAX_EXAMPLES = 5

_GZIP_MAGIC = b"\x1f\x8b"
_ACTIONS = {"ACCEPT": "ACCEPT", "REJECT": "REJECT"}
_NAME_RE = re.compile(r"[a-z][a-z0-9_-]*\Z")
_KNOWN = frozenset(V2_FIELDS) | {
    "vpc-id", "subnet-id", "instance-id", "tcp-flags", "type", "pkt-srcaddr", "pkt-dstaddr",
    "region", "az-id", "sublocation-type", "sublocation-id", "pkt-src-aws-service",
    "pkt-dst-aws-service", "flow-direction", "traffic-path", "reject-reason",
}


@dataclass(frozen=True, slots=True)
class FlowRecord:
    """One flow-log record that carries traffic (log-status OK)."""

    account_id: str
    interface_id: str
    srcaddr: str
    dstaddr: str
    srcport: int
    dstport: int
    protocol: int
    packets: int
    bytes: int
    start: int  # epoch seconds, start of the capture window
    end: int
    action: str  # "ACCEPT" | "REJECT"


@dataclass
class ParseStats:
    """What a parse saw.  Complete once the record iterator is exhausted (or closed)."""

    records: int = 0
    nodata: int = 0
    skipdata: int = 0
    malformed: int = 0
    # (line number, 1-based and counting the header, reason) of the first MAX_EXAMPLES malformed rows
    malformed_examples: list[tuple[int, str]] = field(default_factory=list)
    header: tuple[str, ...] | None = None  # the field names of the header line, if there was one

    def _bad(self, lineno: int, reason: str, line: str) -> None:
        self.malformed += 1
        if len(self.malformed_examples) < MAX_EXAMPLES:
            text = line.strip()
            if len(text) > 80:
                text = text[:77] + "..."
            self.malformed_examples.append((lineno, f"{reason}: {text!r}"))


# ---------------------------------------------------------------------------------------- layout

class _Layout:
    """Where each FlowRecord field sits in a split row.

    Fields missing from a custom format point past the row's end, at padding values appended by
    the slow path: account/interface "" ; packets/bytes/protocol "0" ; log-status "OK";
    a missing ``end`` reads ``start``.
    """

    __slots__ = ("default", "get", "names", "width")

    _PAD = ("", "0", "OK")

    def __init__(self, names: tuple[str, ...]):
        names = tuple(n.replace("_", "-") for n in names)
        missing = [n for n in REQUIRED_FIELDS if n not in names]
        if missing:
            raise ValueError(f"flow-log header lacks required fields {missing}: {' '.join(names)!r}")
        width = len(names)
        index = {n: i for i, n in reversed(list(enumerate(names)))}  # first occurrence wins
        blank, zero, ok = width, width + 1, width + 2
        order = [
            index.get("account-id", blank), index.get("interface-id", blank),
            index["srcaddr"], index["dstaddr"], index["srcport"], index["dstport"],
            index.get("protocol", zero), index.get("packets", zero), index.get("bytes", zero),
            index["start"], index.get("end", index["start"]), index["action"],
            index.get("log-status", ok),
        ]
        self.names = names
        self.width = width
        self.get = itemgetter(*order)
        self.default = names == V2_FIELDS


_DEFAULT_LAYOUT = _Layout(V2_FIELDS)


def _header_names(line: str) -> tuple[str, ...] | None:
    """The field names if ``line`` is a header line (lower-case names, at least one AWS field)."""
    names = line.split()
    if not names or not all(_NAME_RE.match(n) for n in names):
        return None
    if not any(n.replace("_", "-") in _KNOWN for n in names):
        return None
    return tuple(names)


# ---------------------------------------------------------------------------------------- parsing

def _lenient_int(value: str) -> int:
    """Ports, packets and bytes: AWS writes "-" where a field does not apply; read it as 0."""
    return 0 if value == "-" else int(value)


def _slow_row(line: str, lineno: int, layout: _Layout, stats: ParseStats) -> FlowRecord | None:
    """Everything the fast path declined: statuses, "-" values, custom layouts, bad rows."""
    parts = line.split()
    if not parts:
        return None  # blank line
    if len(parts) != layout.width:
        stats._bad(lineno, f"expected {layout.width} fields, got {len(parts)}", line)
        return None
    parts += _Layout._PAD
    acct, eni, src, dst, sp, dp, proto, pk, by, st, en, act, status = layout.get(parts)
    if status == "NODATA":
        stats.nodata += 1
        return None
    if status == "SKIPDATA":
        stats.skipdata += 1
        return None
    if status != "OK":
        stats._bad(lineno, f"unknown log-status {status!r}", line)
        return None
    if src == "-" and dst == "-" and act == "-" and "log-status" not in layout.names:
        stats.nodata += 1  # a format without log-status: an all-"-" row carries no traffic
        return None
    action = _ACTIONS.get(act)
    if action is None:
        stats._bad(lineno, f"unknown action {act!r}", line)
        return None
    if src == "-" or dst == "-":
        stats._bad(lineno, "no address", line)
        return None
    try:
        sp, dp = _lenient_int(sp), _lenient_int(dp)
        rec = FlowRecord(acct, eni, src, dst, sp, dp, _lenient_int(proto), _lenient_int(pk),
                         _lenient_int(by), int(st), int(en), action)
    except ValueError:
        stats._bad(lineno, "not a number", line)
        return None
    if not (0 <= sp <= 65535 and 0 <= dp <= 65535):
        stats._bad(lineno, "port out of range", line)
        return None
    return rec


def parse_lines(lines: Iterable[str], stats: ParseStats | None = None) -> Iterator[FlowRecord]:
    """Yield the traffic records of a text flow-log file, line by line.

    The first non-blank line may be a header naming the fields, in any order and with extra
    fields (custom formats); without one the version 2 default order is assumed.  A header line
    met again later (concatenated files) switches to its layout.  NODATA/SKIPDATA rows are counted
    in ``stats``, as are malformed rows (wrong field count, non-numbers, unknown action or status),
    with the line numbers of the first few.  Raises ValueError for a header that lacks the fields
    detection needs (srcaddr dstaddr srcport dstport start action).
    """
    if stats is None:
        stats = ParseStats()
    layout = _DEFAULT_LAYOUT
    lineno = 0
    it = iter(lines)
    for line in it:  # the first non-blank line: header or data
        lineno += 1
        if not line or line.isspace():
            continue
        names = _header_names(line)
        if names is not None:
            stats.header = names
            layout = _Layout(names)
        else:
            rec = _slow_row(line, lineno, layout, stats)
            if rec is not None:
                stats.records += 1
                yield rec
        break
    if layout.default:
        yield from _fast_default(it, lineno, stats)
    else:
        yield from _custom(it, lineno, layout, stats)


# The slot descriptors of FlowRecord: setting the 12 slots through them directly is about twice as
# fast as the frozen dataclass's __init__ (which goes through object.__setattr__ by name), and the
# record is the hot loop's main cost.  Same object, same equality: only the construction differs.
_SETTERS = tuple(getattr(FlowRecord, f.name).__set__ for f in fields(FlowRecord))


def _fast_default(it: Iterator[str], lineno: int, stats: ParseStats) -> Iterator[FlowRecord]:
    actions = _ACTIONS
    new, cls = object.__new__, FlowRecord
    s_acct, s_eni, s_src, s_dst, s_sp, s_dp, s_proto, s_pk, s_by, s_st, s_en, s_act = _SETTERS
    n = 0
    try:
        for line in it:
            lineno += 1
            try:
                _, acct, eni, src, dst, sp, dp, proto, pk, by, st, en, act, status = line.split()
                if status != "OK":
                    raise ValueError
                sp = int(sp)
                dp = int(dp)
                if sp > 65535 or dp > 65535 or sp < 0 or dp < 0:
                    raise ValueError
                act = actions[act]
                rec = new(cls)
                s_acct(rec, acct)
                s_eni(rec, eni)
                s_src(rec, src)
                s_dst(rec, dst)
                s_sp(rec, sp)
                s_dp(rec, dp)
                s_proto(rec, int(proto))
                s_pk(rec, int(pk))
                s_by(rec, int(by))
                s_st(rec, int(st))
                s_en(rec, int(en))
                s_act(rec, act)
            except (ValueError, KeyError):
                layout = _later_header(line, lineno, stats)
                if layout is not None:  # a second header: carry on with its layout
                    if not layout.default:
                        yield from _custom(it, lineno, layout, stats)
                        return
                    continue
                rec = _slow_row(line, lineno, _DEFAULT_LAYOUT, stats)
                if rec is None:
                    continue
            n += 1
            yield rec
    finally:
        stats.records += n


def _custom(it: Iterator[str], lineno: int, layout: _Layout, stats: ParseStats) -> Iterator[FlowRecord]:
    for line in it:
        lineno += 1
        new = _later_header(line, lineno, stats)
        if new is not None:
            layout = new
            continue
        rec = _slow_row(line, lineno, layout, stats)
        if rec is not None:
            stats.records += 1
            yield rec


def _later_header(line: str, lineno: int, stats: ParseStats) -> _Layout | None:
    """A header line after the first (concatenated files); an unusable one counts as malformed."""
    names = _header_names(line)
    if names is None:
        return None
    try:
        layout = _Layout(names)
    except ValueError:
        return None  # _slow_row will count it
    stats.header = names
    return layout


def _decompress(body: bytes) -> bytes:
    if body[:2] != _GZIP_MAGIC:
        return body
    try:
        return gzip.decompress(body)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"not a readable gzip file: {exc}") from exc


def parse_file(body: bytes) -> tuple[list[FlowRecord], ParseStats]:
    """Parse a whole flow-log file: gzip (as AWS delivers it) or plain text.

    Raises ValueError for a corrupt or truncated gzip stream or an unusable header.  For large
    objects prefer ``iter_records`` on the stream: this holds the text and every record at once.

    The cyclic garbage collector is paused while the list is built: it would otherwise rescan
    the growing list of records over and over (about a third of the time) although parsing makes
    no reference cycles.  It is re-enabled afterwards if it was enabled before.
    """
    stats = ParseStats()
    lines = _decompress(body).decode("utf-8", "replace").split("\n")
    paused = gc.isenabled()
    gc.disable()
    try:
        records = list(parse_lines(lines, stats))
    finally:
        if paused:
            gc.enable()
    return records, stats


def iter_records(stream: BinaryIO, stats: ParseStats | None = None) -> Iterator[FlowRecord]:
    """Stream the records of a flow-log file object (gzip or plain), e.g. an S3 body, in bounded memory.

    Raises ValueError for a corrupt or truncated gzip stream.
    """
    head = stream.read(2)
    raw: BinaryIO = _Prepend(head, stream)
    if head == _GZIP_MAGIC:
        raw = gzip.GzipFile(fileobj=raw, mode="rb")
    text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
    try:
        yield from parse_lines(text, stats)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"not a readable gzip file: {exc}") from exc


class _Prepend(io.RawIOBase):
    """A readable stream: ``head`` then the rest of ``stream``."""

    def __init__(self, head: bytes, stream: BinaryIO):
        self._head, self._stream = head, stream

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        if self._head:
            n = min(len(buf), len(self._head))
            buf[:n], self._head = self._head[:n], self._head[n:]
            return n
        data = self._stream.read(len(buf))
        buf[:len(data)] = data
        return len(data)


# ---------------------------------------------------------------------------------------- keys

_KEY_RE = re.compile(
    r"^(?:(?P<prefix>.*?)/)?AWSLogs/"
    r"(?:aws-account-id=)?(?P<account>\d{12})/"
    r"(?:aws-service=)?vpcflowlogs/"
    r"(?:aws-region=)?(?P<region>[a-z0-9][a-z0-9-]*)/"
    r"(?:year=)?(?P<y>\d{4})/(?:month=)?(?P<m>\d{2})/(?:day=)?(?P<d>\d{2})/"
    r"(?:(?:hour=)?\d{2}/)?"
    r"(?P<file>(?P=account)_vpcflowlogs_(?P=region)_(?P<flid>fl-[0-9a-zA-Z]+)_"
    r"(?P<ts>\d{8}T\d{4}Z)_[0-9a-zA-Z]+\.log(?:\.gz)?)$"
)


@dataclass(frozen=True)
class FlowLogKey:
    """Where a flow-log file sits in S3: ``[prefix/]AWSLogs/<account>/vpcflowlogs/<region>/Y/M/D/<file>``."""

    account: str
    region: str
    date: dt.date  # the folder's date
    flow_log_id: str
    timestamp: dt.datetime | None = None  # the file name's YYYYMMDDTHHmmZ, UTC
    prefix: str = ""
    filename: str = ""


def parse_key(key: str) -> FlowLogKey | None:
    """The parts of a flow-log file's S3 key; None for any other object.

    Accepts the default and the Hive-compatible layouts (``aws-account-id=...``), with or without
    hourly partitions.  Parquet files (``.log.parquet``) are not text and return None.
    """
    m = _KEY_RE.match(key or "")
    if not m:
        return None
    try:
        date = dt.date(int(m["y"]), int(m["m"]), int(m["d"]))
        stamp = dt.datetime.strptime(m["ts"], "%Y%m%dT%H%MZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    return FlowLogKey(account=m["account"], region=m["region"], date=date, flow_log_id=m["flid"],
                      timestamp=stamp, prefix=m["prefix"] or "", filename=m["file"])


def file_key(account: str, region: str, flow_log_id: str, when: dt.datetime, *,
             prefix: str = "", digest: str | None = None) -> str:
    """The S3 key AWS would give a flow-log file delivered at ``when`` (naive = UTC).

    ``digest`` is the file name's trailing hash; by default 8 hex digits derived from the rest,
    so the same arguments always give the same key.
    """
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    stamp = when.strftime("%Y%m%dT%H%MZ")
    if digest is None:
        digest = hashlib.sha256(f"{account}|{region}|{flow_log_id}|{stamp}".encode()).hexdigest()[:8]
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return (f"{prefix}AWSLogs/{account}/vpcflowlogs/{region}/{when:%Y/%m/%d}/"
            f"{account}_vpcflowlogs_{region}_{flow_log_id}_{stamp}_{digest}.log.gz")


# ---------------------------------------------------------------------------------------- render

def render_file(records: Iterable[FlowRecord], *, nodata_interfaces: Iterable[str] = (),
                account_id: str | None = None, window: tuple[int, int] | None = None) -> bytes:
    """The gzip bytes of a default-format (version 2) flow-log file holding ``records``.

    A header line, then one line a record, then a NODATA row for each of ``nodata_interfaces``
    (``2 <account> <eni> - - - - - - - <start> <end> - NODATA``).  The NODATA rows' account is
    ``account_id`` or the first record's, and their capture window is ``window`` or the records'
    earliest start and latest end.  The gzip header carries no timestamp: the same input always
    gives the same bytes.
    """
    nodata = list(nodata_interfaces)
    need_window = bool(nodata) and window is None
    lines = [HEADER]
    first = last = None
    for r in records:
        lines.append(f"2 {r.account_id} {r.interface_id} {r.srcaddr} {r.dstaddr} {r.srcport} "
                     f"{r.dstport} {r.protocol} {r.packets} {r.bytes} {r.start} {r.end} {r.action} OK")
        if account_id is None:
            account_id = r.account_id
        if need_window:
            first = r.start if first is None or r.start < first else first
            last = r.end if last is None or r.end > last else last
    start, end = window or (first or 0, last or 0)
    for eni in nodata:
        lines.append(f"2 {account_id or '-'} {eni} - - - - - - - {start} {end} - NODATA")
    lines.append("")
    return gzip.compress("\n".join(lines).encode(), compresslevel=6, mtime=0)
