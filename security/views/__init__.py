"""security's pages, one module per page group: audit_log (the audit log, admins and auditors), tokens (API tokens)."""
