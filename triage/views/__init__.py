"""Triage pages, one module per page group: the alerts dashboard, alerts, signatures, org context, alarms, flow
logs and threat lists."""
