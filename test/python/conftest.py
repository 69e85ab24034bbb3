"""Fixtures that start a real Cairn server process for the Python client tests."""
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAIRN = os.path.join(REPO, "bin", "cairn.js")
ROOT_ACCESS_KEY = "CAIRNTESTROOTKEY0001"
ROOT_SECRET_KEY = "cairn-test-root-secret-key-0000000000000"


class Server:
    def __init__(self, args=(), env=None):
        self.data_dir = tempfile.mkdtemp(prefix="cairn-py-")
        full_env = dict(os.environ)
        full_env.update({"CAIRN_ROOT_ACCESS_KEY": ROOT_ACCESS_KEY, "CAIRN_ROOT_SECRET_KEY": ROOT_SECRET_KEY})
        full_env.update(env or {})
        # The server's log goes to a file: a pipe nobody reads would fill and stall it.
        self.log = tempfile.TemporaryFile(mode="w+", prefix="cairn-log-")
        self.proc = subprocess.Popen(
            ["node", CAIRN, "server", "--data", self.data_dir, "--port", "0", "--admin-port", "0",
             "--workers", "1", "--log-level", "warn", *args],
            stdout=subprocess.PIPE, stderr=self.log, env=full_env, text=True,
        )
        deadline = time.time() + 20
        line = ""
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            match = re.search(r"listening on (http\S+)", line)
            if match:
                self.endpoint = match.group(1)
                self.port = int(self.endpoint.rsplit(":", 1)[1])
                return
            if self.proc.poll() is not None:
                break
        self.log.seek(0)
        output = self.log.read()
        self.stop()
        raise RuntimeError("Cairn did not start: " + line + output)

    def admin(self, *args):
        out = subprocess.run(["node", CAIRN, "admin", *args, "--data", self.data_dir],
                             capture_output=True, text=True, check=True)
        return out.stdout

    def create_account(self, account_id, name, email, access_key, secret_key):
        self.admin("account", "create", "--id", account_id, "--name", name, "--email", email,
                   "--access-key", access_key, "--secret-key", secret_key)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)


@pytest.fixture
def server():
    s = Server()
    yield s
    s.stop()


@pytest.fixture
def aws_env(server):
    """Environment for client programs: the root account's keys, no user config files."""
    env = dict(os.environ)
    env.update({
        "AWS_ACCESS_KEY_ID": ROOT_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": ROOT_SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    })
    return env
