"""ops' pages, one module per page group: operations (the operations page), metrics (/metrics)."""
