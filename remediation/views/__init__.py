"""The remediation pages, one module per page group: findings (and the dashboard), rules, exceptions,
policies (and the pattern tester), actions, dry runs."""
