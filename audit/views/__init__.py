"""The audit pages, one module per page group: events, log files, resources (their timelines and the recorder)."""
