"""Fixtures for the boto 2 suites.

boto 2.49 is Debian's python3-boto and runs on Debian's /usr/bin/python3 (see
scripts/test.sh). It signs S3 requests with Signature Version 2 unless told to
use SigV4 (S3_USE_SIGV4, or `use-sigv4` in a boto config file), so both are
cleared here before boto is imported. Servers are test/python/conftest.py's
Server: a real Cairn process on an ephemeral port with a temporary data folder.
"""
import importlib.util
import os
import socket
import warnings

for _name in ("S3_USE_SIGV4", "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
    os.environ.pop(_name, None)  # boto 2 routes through $http_proxy by itself
os.environ["BOTO_CONFIG"] = os.devnull  # no /etc/boto.cfg or ~/.boto

# boto 2.49 imports the `imp` module (boto/plugin.py): a DeprecationWarning on
# Python 3.11, and an ImportError from Python 3.12 on, where `imp` is gone.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import boto  # noqa: E402,F401

import pytest  # noqa: E402
from boto.s3.connection import OrdinaryCallingFormat, S3Connection, SubdomainCallingFormat  # noqa: E402

# The parent conftest's Server class (conftest modules are not importable by name).
_spec = importlib.util.spec_from_file_location(
    "cairn_python_conftest", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "conftest.py"))
_parent = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_parent)
Server = _parent.Server
ROOT_ACCESS_KEY = _parent.ROOT_ACCESS_KEY
ROOT_SECRET_KEY = _parent.ROOT_SECRET_KEY

VHOST_DOMAIN = "localhost"


@pytest.fixture
def start_server():
    """Starts Cairn servers with extra arguments or environment; stops them after the test."""
    started = []

    def start(args=(), env=None):
        started.append(Server(args=args, env=env))
        return started[-1]

    yield start
    for s in started:
        s.stop()


@pytest.fixture
def root_keys():
    """The root account's (access key, secret key) of the servers the fixtures start."""
    return ROOT_ACCESS_KEY, ROOT_SECRET_KEY


def subdomains_resolve_natively():
    try:
        return any(info[4][0] == "127.0.0.1" for info in socket.getaddrinfo("cairn-probe." + VHOST_DOMAIN, 80))
    except socket.gaierror:
        return False


def resolve_localhost_subdomains(monkeypatch):
    """Makes `<anything>.localhost` resolve to 127.0.0.1 in this process.

    glibc with `hosts: files dns` (no nss-myhostname) does not resolve
    subdomains of localhost, and there is no network for a wildcard DNS name.
    Only name resolution is redirected: boto still connects to
    `<bucket>.localhost:<port>` and sends that Host header.
    """
    if subdomains_resolve_natively():
        return
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode("ascii")
        if isinstance(host, str) and (host == VHOST_DOMAIN or host.endswith("." + VHOST_DOMAIN)):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


class Endpoint:
    """A running Cairn server and how boto 2 reaches it (path-style or virtual-hosted)."""

    def __init__(self, server, style):
        self.server = server
        self.style = style
        if style == "path-style":
            self.host, self.calling_format = "127.0.0.1", OrdinaryCallingFormat()
        else:
            self.host, self.calling_format = VHOST_DOMAIN, SubdomainCallingFormat()

    def connect(self, access_key=ROOT_ACCESS_KEY, secret_key=ROOT_SECRET_KEY):
        return S3Connection(access_key, secret_key, host=self.host, port=self.server.port,
                            is_secure=False, calling_format=self.calling_format)


@pytest.fixture(scope="module", params=["path-style", "virtual-hosted"])
def endpoint(request):
    """boto 2 with OrdinaryCallingFormat against a plain server, then with the
    default SubdomainCallingFormat against one started with `--domain localhost`.
    One server per style and test module: tests use their own buckets."""
    if request.param == "path-style":
        server = Server()
        try:
            yield Endpoint(server, "path-style")
        finally:
            server.stop()
        return
    with pytest.MonkeyPatch.context() as monkeypatch:
        resolve_localhost_subdomains(monkeypatch)
        server = Server(args=("--domain", VHOST_DOMAIN))
        try:
            yield Endpoint(server, "virtual-hosted")
        finally:
            server.stop()
