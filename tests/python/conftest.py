"""Starts real `troupe serve --dev` processes for the Python conformance tests (boto3 and the
AWS CLI) and builds boto3 clients pointed at them. Each server gets its own data directory and
an ephemeral port, and must shut down cleanly (exit code 0) on SIGTERM."""

import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target")))
TROUPE_BIN = os.environ.get("TROUPE_BIN", str(TARGET_DIR / "debug" / "troupe"))
DEV_KEY, DEV_SECRET = "devkey", "devsecret"
READY = re.compile(r"troupe listening on (http://[0-9.:]+)")


def free_media_port():
    """A port free on UDP and TCP (the server's ICE-TCP port has its media port's number)."""
    import socket
    while True:
        port = random.randint(20000, 49999)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, \
                    socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                u.bind(("127.0.0.1", port))
                t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue


class Server:
    """A running `troupe serve --dev` on 127.0.0.1:0 with its own data directory."""

    def __init__(self, args=(), data_dir=None):
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="troupe-pytest-"))
        self.stderr = tempfile.TemporaryFile()
        env = {**os.environ, "RUST_LOG": "warn"}
        port = free_media_port()
        self.proc = subprocess.Popen(
            [
                TROUPE_BIN, "serve", "--dev", "--bind", "127.0.0.1:0",
                "--data-dir", str(self.data_dir),
                # Its own media port, so that test servers can run side by side.
                "--udp-ports", f"{port}-{port}",
                # TURN's well-known port would be shared: servers side by side run without.
                *([] if "--turn-port" in args else ["--turn-port", "0"]),
                # The same for RTMP's well-known port.
                *([] if "--rtmp-port" in args else ["--rtmp-port", "0"]),
                *args,
            ],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.stderr, env=env,
        )
        self.stdout = ""
        ready = threading.Event()
        found = {}

        def read_stdout():
            for raw in self.proc.stdout:
                self.stdout += raw.decode("utf-8", "replace")
                m = READY.search(self.stdout)
                if m and not ready.is_set():
                    found["url"] = m.group(1)
                    ready.set()
            ready.set()  # stdout closed: the process exited

        threading.Thread(target=read_stdout, daemon=True).start()
        if not ready.wait(20) or "url" not in found:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"troupe did not get ready (exit {self.proc.returncode})\n{self.stderr_text()}")
        self.url = found["url"]

    def stderr_text(self):
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def client(self, key=DEV_KEY, secret=DEV_SECRET, region="us-east-1", **config):
        return make_client(self.url, key, secret, region, **config)

    def stop(self):
        """SIGTERM, wait for a clean exit, remove the data directory; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("troupe did not stop within 20 s of SIGTERM")
        shutil.rmtree(self.data_dir, ignore_errors=True)
        return code


def make_client(url, key=DEV_KEY, secret=DEV_SECRET, region="us-east-1", **config):
    return boto3.client(
        "ivs-realtime",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(**config) if config else None,
    )


@pytest.fixture(scope="module")
def troupe_server():
    """A fresh `troupe serve --dev` shared by the tests of one module."""
    server = Server()
    yield server
    code = server.stop()
    assert code == 0, f"troupe exited with {code} on SIGTERM\n{server.stderr_text()}"


@pytest.fixture(scope="module")
def troupe_url(troupe_server):
    return troupe_server.url


@pytest.fixture(scope="module")
def ivs(troupe_url):
    """A boto3 ivs-realtime client with the dev credentials, pointed at the module's server."""
    return make_client(troupe_url)


@pytest.fixture
def start_troupe():
    """Starts extra servers with their own flags (`start_troupe("--max-stages", "1")`); each is
    stopped with SIGTERM at the end of the test and must exit with 0."""
    servers = []

    def start(*args, data_dir=None):
        server = Server(args, data_dir=data_dir)
        servers.append(server)
        return server

    yield start
    for server in servers:
        code = server.stop()
        assert code == 0, f"troupe exited with {code} on SIGTERM\n{server.stderr_text()}"
