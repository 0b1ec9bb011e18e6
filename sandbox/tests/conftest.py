from sandbox.testing import sandbox, sandbox_server  # noqa: F401  (the fixtures)
