"""What the audit app tells the rest of the portal, without knowing who listens."""

from django.dispatch import Signal

# Sent after the recorder wrote new configuration items: resource_ids=[ConfigResource pks].
configuration_recorded = Signal()

# Sent after ingest stored new write events that succeeded and named a resource: event_ids=[eventID, ...].
events_stored = Signal()

# Sent after ingest stored new events of any kind (reads, failures, sign-ins): event_ids=[eventID, ...].
events_ingested = Signal()
