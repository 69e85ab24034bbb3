"""Huge objects through s3transfer, the managed transfer layer behind boto3's
`upload_file` / `download_file` and the AWS CLI's `aws s3 cp`: a 1 GiB file goes
up as a multipart upload of parts sent in parallel and comes back by parallel
ranged GETs, and must come back byte for byte (MD5 of the file before and after).

What s3transfer sends (botocore 1.43, s3transfer 0.17, over plain HTTP):
CreateMultipartUpload with `x-amz-checksum-algorithm: CRC32` (no checksum type,
so COMPOSITE); each UploadPart signed with the payload's SHA-256, behind
`Expect: 100-continue`, with `x-amz-checksum-crc32` in a header (no aws-chunked
trailer); CompleteMultipartUpload listing each part's ChecksumCRC32; downloads
as ranged GETs of 8 MiB with `x-amz-checksum-mode: ENABLED` (the CLI's last
range is open-ended, `bytes=N-`).
"""
import base64
import collections
import hashlib
import os
import random
import re
import shutil
import subprocess
import tempfile
import threading
import zlib

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

MiB = 1024 * 1024
SIZE = 1024 * MiB
CHUNK = 8 * MiB  # s3transfer's default multipart_chunksize (and threshold)
PARTS = SIZE // CHUNK


def md5_of_file(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


@pytest.fixture
def workdir():
    """A temporary folder for the 1 GiB files, removed whatever happens."""
    path = tempfile.mkdtemp(prefix="cairn-transfer-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def big_file(workdir):
    """A 1 GiB file of deterministic pseudo-random bytes, its MD5 and the COMPOSITE CRC32 of its 8 MiB parts."""
    if shutil.disk_usage(workdir).free < 4 * SIZE:
        pytest.skip("needs 4 GiB free in %s for a 1 GiB file, its stored copy and its download" % workdir)
    path = os.path.join(workdir, "upload.bin")
    rng = random.Random(20240611)
    h = hashlib.md5()
    part_crcs = []
    crc = 0
    with open(path, "wb") as f:
        for i in range(SIZE // MiB):
            block = rng.randbytes(MiB)
            h.update(block)
            crc = zlib.crc32(block, crc)
            if (i + 1) * MiB % CHUNK == 0:
                part_crcs.append(crc.to_bytes(4, "big"))
                crc = 0
            f.write(block)
    composite = "%s-%d" % (base64.b64encode(zlib.crc32(b"".join(part_crcs)).to_bytes(4, "big")).decode(), len(part_crcs))
    return path, h.hexdigest(), composite


def check_checksum(s3, bucket, key, composite):
    """Clients that send CRC32s with their parts (botocore >= 1.36) get the object's COMPOSITE CRC32."""
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    if "ChecksumCRC32" in head:
        assert head["ChecksumCRC32"] == composite
        assert head["ChecksumType"] == "COMPOSITE"


def client_for(server, env):
    return boto3.client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"max_attempts": 1}),
    )


class RequestLog:
    """Records, per operation, the requests botocore sends: checksum headers, ranges, concurrency."""

    def __init__(self, client):
        self.lock = threading.Lock()
        self.headers = collections.defaultdict(set)
        self.ranges = []
        self.in_flight = collections.Counter()
        self.max_in_flight = collections.Counter()
        events = client.meta.events
        events.register("before-send.s3.*", self.before_send)
        events.register("after-call.s3.*", self.after_call)
        events.register("after-call-error.s3.*", self.after_call)

    def before_send(self, request, **kwargs):
        operation = kwargs["event_name"].rsplit(".", 1)[1]
        with self.lock:
            for name, value in request.headers.items():
                name = name.decode() if isinstance(name, bytes) else name
                value = value.decode() if isinstance(value, bytes) else value
                lower = name.lower()
                if re.match(r"x-amz-checksum-(crc|sha)", lower):
                    self.headers[operation].add(lower)
                elif lower == "x-amz-content-sha256":
                    self.headers[operation].add("%s: %s" % (lower, "<SHA-256 of the payload>" if re.fullmatch(r"[0-9a-f]{64}", value) else value))
                elif "checksum" in lower or lower in ("x-amz-trailer", "expect", "content-encoding"):
                    self.headers[operation].add("%s: %s" % (lower, value))
                elif lower == "range":
                    self.ranges.append(value)
            self.in_flight[operation] += 1
            self.max_in_flight[operation] = max(self.max_in_flight[operation], self.in_flight[operation])

    def after_call(self, **kwargs):
        operation = kwargs["event_name"].rsplit(".", 1)[1]
        with self.lock:
            self.in_flight[operation] -= 1

    def report(self):
        return "\n".join("%s: %s" % (op, ", ".join(sorted(h))) for op, h in sorted(self.headers.items()))


def test_boto3_upload_file_and_download_file_round_trip_1_gib(server, aws_env, big_file, workdir):
    path, md5, composite = big_file
    s3 = client_for(server, aws_env)
    s3.create_bucket(Bucket="transfer")
    log = RequestLog(s3)
    config = TransferConfig(multipart_threshold=CHUNK, multipart_chunksize=CHUNK, max_concurrency=8, use_threads=True)

    s3.upload_file(path, "transfer", "one-gib.bin", Config=config)
    head = s3.head_object(Bucket="transfer", Key="one-gib.bin")
    assert head["ContentLength"] == SIZE
    assert re.fullmatch(r'"[0-9a-f]{32}-%d"' % PARTS, head["ETag"]), head["ETag"]
    # The parts really went up side by side.
    assert log.max_in_flight["UploadPart"] > 1, log.max_in_flight
    check_checksum(s3, "transfer", "one-gib.bin", composite)

    target = os.path.join(workdir, "download.bin")
    s3.download_file("transfer", "one-gib.bin", target, Config=config)
    # ... and came back as ranged GETs, several at once.
    assert len(log.ranges) >= PARTS, log.ranges[:5]
    assert log.max_in_flight["GetObject"] > 1, log.max_in_flight
    print("boto3/s3transfer request headers:\n" + log.report())
    assert os.path.getsize(target) == SIZE
    assert md5_of_file(target) == md5


def test_aws_s3_cp_up_and_down_round_trips_1_gib(server, aws_env, big_file, workdir):
    path, md5, composite = big_file
    s3 = client_for(server, aws_env)
    s3.create_bucket(Bucket="cli-transfer")

    def aws(*args):
        out = subprocess.run(["aws", "--endpoint-url", server.endpoint, *args, "--only-show-errors"],
                             env=aws_env, capture_output=True, text=True, timeout=900)
        assert out.returncode == 0, "aws %s exited %d\n%s%s" % (" ".join(args), out.returncode, out.stdout, out.stderr)
        return out

    aws("s3", "cp", path, "s3://cli-transfer/one-gib.bin")
    head = s3.head_object(Bucket="cli-transfer", Key="one-gib.bin")
    assert head["ContentLength"] == SIZE
    assert re.fullmatch(r'"[0-9a-f]{32}-%d"' % PARTS, head["ETag"]), head["ETag"]
    check_checksum(s3, "cli-transfer", "one-gib.bin", composite)

    target = os.path.join(workdir, "cli-download.bin")
    aws("s3", "cp", "s3://cli-transfer/one-gib.bin", target)
    assert os.path.getsize(target) == SIZE
    assert md5_of_file(target) == md5
