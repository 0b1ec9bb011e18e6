"""Django-free CloudTrail log handling: object keys, streaming file reader, the queue's new-file notifications,
record normalisation and resource extraction, event patterns, LookupEvents paging."""

from .files import BadLogFile, LogKey, iter_records, parse_key
from .records import BadRecord, NormalizedEvent, normalize, unwrap, unwrap_all
from .resources import Resource, resources_of

__all__ = [
    "BadLogFile",
    "BadRecord",
    "LogKey",
    "NormalizedEvent",
    "Resource",
    "iter_records",
    "normalize",
    "parse_key",
    "resources_of",
    "unwrap",
    "unwrap_all",
]
