"""The boto tutorial's "Storing Large Data" recipe (seed 002), run against Cairn.

As written there: initiate_multipart_upload(os.path.basename(source_path)),
50 MiB chunks, upload_part_from_file(fp, part_num=i + 1) with fp a FileChunkIO
over the chunk, then mp.complete_upload(). The parts go up in parallel threads,
as the tutorial suggests (after the s3put script: one connection per thread,
because boto connections are not thread-safe). Then the tutorial's warning: an
unfinished upload shows in bucket.get_all_multipart_uploads() and holds storage
until mp.cancel_upload().
"""
import concurrent.futures
import hashlib
import io
import math
import os
import shutil
import tempfile
import time

import boto
import pytest
from boto.s3.connection import OrdinaryCallingFormat

MiB = 1024 * 1024
SOURCE_SIZE = 300 * MiB


class FileChunkIO(io.FileIO):
    """Stand-in for the FileChunkIO package the tutorial installs with pip
    (`filechunkio`; Debian has no package for it): a read-only file object over
    `bytes` bytes of a file starting at `offset`, same constructor. Positions
    are relative to the chunk and reads stop at its end, so boto's MD5 pass and
    upload both see exactly the chunk."""

    def __init__(self, name, mode="r", closefd=True, offset=0, bytes=None, *args, **kwargs):  # noqa: A002 - FileChunkIO's names
        super().__init__(name, mode, closefd, *args, **kwargs)
        self.offset = offset
        available = os.fstat(self.fileno()).st_size - offset
        self.bytes = available if bytes is None else min(bytes, available)
        self.seek(0)

    def seek(self, offset, whence=io.SEEK_SET):
        if whence == io.SEEK_CUR:
            offset += self.tell()
        elif whence == io.SEEK_END:
            offset += self.bytes
        return super().seek(self.offset + max(0, offset)) - self.offset

    def tell(self):
        return super().tell() - self.offset

    def read(self, n=-1):
        left = max(0, self.bytes - self.tell())
        return super().read(left if n is None or n < 0 else min(n, left))

    def readall(self):
        return self.read()

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def md5_of(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(4 * MiB), b""):
            digest.update(block)
    return digest.hexdigest()


def blobs_size(server):
    total = 0
    for folder, _, files in os.walk(os.path.join(server.data_dir, "blobs")):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(folder, name))
            except FileNotFoundError:
                pass  # deleted while we walked
    return total


@pytest.fixture
def workdir():
    path = tempfile.mkdtemp(prefix="cairn-boto2-mp-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def server(start_server):
    """A server that removes dead blob files at once: CAIRN_GC_GRACE (seconds a
    replaced or aborted blob is kept for readers in other workers) is 0 so the
    space an aborted upload held comes back within a few seconds. A server
    without that setting ignores the variable (and collects at once anyway)."""
    return start_server(env={"CAIRN_GC_GRACE": "0"})


@pytest.fixture
def connect_s3(server, root_keys, monkeypatch):
    """boto.connect_s3() as the tutorial calls it: keys from the environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", root_keys[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", root_keys[1])
    return lambda: boto.connect_s3(host="127.0.0.1", port=server.port, is_secure=False,
                                   calling_format=OrdinaryCallingFormat())


def upload_part(connect_s3, bucket_name, multipart_id, part_num, source_path, offset, bytes):  # noqa: A002
    """One part, on its own connection (as s3put's _upload_part does)."""
    c = connect_s3()
    b = c.get_bucket(bucket_name)
    for mp in b.get_all_multipart_uploads():
        if mp.id == multipart_id:
            with FileChunkIO(source_path, "r", offset=offset, bytes=bytes) as fp:
                return mp.upload_part_from_file(fp, part_num=part_num)
    raise AssertionError("upload %s not listed" % multipart_id)


def test_storing_large_data_recipe(server, connect_s3, workdir):
    # A 300 MiB file whose every MiB differs.
    source_path = os.path.join(workdir, "large-file.bin")
    with open(source_path, "wb") as f:
        for i in range(SOURCE_SIZE // MiB):
            f.write(hashlib.sha256(b"%d" % i).digest() * (MiB // 32))

    c = connect_s3()
    b = c.create_bucket("mybucket")
    b = c.get_bucket("mybucket")

    # --- the recipe -------------------------------------------------------
    source_size = os.stat(source_path).st_size
    mp = b.initiate_multipart_upload(os.path.basename(source_path))
    chunk_size = 52428800
    chunk_count = int(math.ceil(source_size / float(chunk_size)))
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        futures = []
        for i in range(chunk_count):
            offset = chunk_size * i
            bytes = min(chunk_size, source_size - offset)  # noqa: A001 - the tutorial's name
            futures.append(pool.submit(upload_part, connect_s3, b.name, mp.id, i + 1, source_path, offset, bytes))
        for future in futures:
            future.result()
    mp.complete_upload()
    # ----------------------------------------------------------------------

    assert chunk_count == 6
    key = b.get_key("large-file.bin")
    assert key.size == source_size
    assert key.etag.strip('"').endswith("-6")  # a multipart ETag: MD5 of the parts' MD5s, -N
    downloaded = os.path.join(workdir, "downloaded.bin")
    key.get_contents_to_filename(downloaded)
    assert md5_of(downloaded) == md5_of(source_path)
    os.remove(downloaded)
    assert b.get_all_multipart_uploads() == []

    # An unfinished upload is listed, holds its parts' space, and cancel_upload()
    # removes it and (asynchronously) its data.
    before = blobs_size(server)
    unfinished = b.initiate_multipart_upload("forgotten.bin")
    with FileChunkIO(source_path, "r", offset=0, bytes=chunk_size) as fp:
        unfinished.upload_part_from_file(fp, part_num=1)
    assert [(u.key_name, u.id) for u in b.get_all_multipart_uploads()] == [("forgotten.bin", unfinished.id)]
    assert blobs_size(server) >= before + chunk_size

    unfinished.cancel_upload()
    assert b.get_all_multipart_uploads() == []
    deadline = time.time() + 10
    while blobs_size(server) > before and time.time() < deadline:
        time.sleep(0.2)
    assert blobs_size(server) <= before

    # The completed object is untouched.
    assert b.get_key("large-file.bin").size == source_size
