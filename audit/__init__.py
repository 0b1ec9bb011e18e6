"""CloudTrail ingestion and history, the configuration recorder and resource timelines (issues 5 and 6)."""
