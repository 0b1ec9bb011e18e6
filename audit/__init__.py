"""CloudTrail ingestion and history, the configuration recorder and resource timelines (issues 5 and 6).

`models`; `services` ingests CloudTrail log files (each record stored once, enriched; bad files quarantined),
`cloudtrail_delivery` reads each account's queue and bucket through the AWS boundary, `handoffs` hands new events
on to the apps registered for them; `recorder` turns snapshots into configuration items with diffs, and
`recorder_runs` keeps the recorder's runs as claimed rows; `selectors` holds every read, scoped to the caller (the
event history, the inventory, a resource's timeline), and `timeline` the timeline's `Entry`, the `TIMELINE_SOURCES`
other apps register into and links into the timeline page; `signals` tells the others of new configuration items;
`tasks` are the Celery entry points; `api/` the REST API, `views/` the pages (events, log files, resources with
their timelines and the recorder). The Django-free cores: `cloudtrail/` (log files, records, touched resources,
event patterns, LookupEvents paging) and `config/` (the resource collectors and diffs).
"""
