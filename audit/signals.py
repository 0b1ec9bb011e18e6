"""What the audit app tells the rest of the portal, without knowing who listens."""

from django.dispatch import Signal

# Sent after the recorder wrote new configuration items: resource_ids=[ConfigResource pks].
configuration_recorded = Signal()

# New events are not a signal: ingest hands them on durably, in its own transaction (see audit.handoffs).
