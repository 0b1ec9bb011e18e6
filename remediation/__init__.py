"""Rules, findings, signatures, alerts, remediation policies and actions (issues 7 to 9)."""
