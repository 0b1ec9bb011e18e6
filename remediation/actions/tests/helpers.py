"""Helpers for the action tests: the account they act in, and clients whose calls AWS "ignores"."""

ACCOUNT = "111111111111"
REGION = "us-east-1"
IMAGE = "ami-03cf127a"  # one of the images moto ships


class Swallowing:
    """clients(service, region) whose clients do nothing for the `swallowed` methods (a call AWS ignored)."""

    def __init__(self, clients, swallowed):
        self._clients, self._swallowed = clients, set(swallowed)

    def __call__(self, service, region):
        return _Proxy(self._clients(service, region), self._swallowed)


class _Proxy:
    def __init__(self, client, swallowed):
        self._client, self._swallowed = client, swallowed

    def __getattr__(self, name):
        if name in self._swallowed:
            return lambda **kwargs: {}
        return getattr(self._client, name)
