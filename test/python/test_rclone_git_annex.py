"""rclone and git-annex (Debian's packages) upload large files to Cairn as multipart uploads.

Both complete the upload with XML whose ETag quotes are numeric character
references (rclone, through Go's encoding/xml: <ETag>&#34;…&#34;</ETag>), which
XML requires a server to read as the characters. Each test is skipped when its
program is not installed (scripts/test.sh installs both).
"""
import hashlib
import os
import shutil
import subprocess

import boto3
import pytest
from botocore.config import Config

from conftest import ROOT_ACCESS_KEY, ROOT_SECRET_KEY

MiB = 1024 * 1024
# Three parts of 5 MiB (S3's smallest part) and a short last one.
SIZE = 3 * 5 * MiB + 123_457


def client_env(extra):
    env = dict(os.environ)
    # aws-sdk-go (inside rclone) refuses to start with a CA bundle over plain HTTP.
    for name in ("AWS_CA_BUNDLE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE"):
        env.pop(name, None)
    env.update(extra)
    return env


def run(args, env, cwd=None, timeout=300):
    out = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, "%s exited %d\nstdout: %s\nstderr: %s" % (" ".join(args), out.returncode, out.stdout, out.stderr)
    return out


def s3_of(server):
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=ROOT_ACCESS_KEY, aws_secret_access_key=ROOT_SECRET_KEY,
                        config=Config(s3={"addressing_style": "path"}))


def multipart_etag(data, part_size):
    digests = b"".join(hashlib.md5(data[i:i + part_size]).digest() for i in range(0, len(data), part_size))
    return '"%s-%d"' % (hashlib.md5(digests).hexdigest(), (len(data) + part_size - 1) // part_size)


# git-annex reads in chunks of 32752 bytes and fills a part with whole chunks, so partsize=6MiB
# makes parts of 6288384 bytes (partsize=5MiB would make them smaller than S3's 5 MiB minimum).
ANNEX_PART = (6 * MiB // 32752) * 32752


@pytest.fixture
def big_file(tmp_path):
    data = os.urandom(SIZE)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    return path, data


@pytest.mark.skipif(shutil.which("rclone") is None, reason="rclone is not installed")
def test_rclone_uploads_a_large_file_in_parts(server, big_file, tmp_path):
    path, data = big_file
    env = client_env({
        "RCLONE_CONFIG_CAIRN_TYPE": "s3", "RCLONE_CONFIG_CAIRN_PROVIDER": "Other",
        "RCLONE_CONFIG_CAIRN_ACCESS_KEY_ID": ROOT_ACCESS_KEY, "RCLONE_CONFIG_CAIRN_SECRET_ACCESS_KEY": ROOT_SECRET_KEY,
        "RCLONE_CONFIG_CAIRN_ENDPOINT": server.endpoint, "RCLONE_CONFIG_CAIRN_REGION": "us-east-1",
    })
    rclone = ["rclone", "--config", os.devnull, "--retries", "1", "--low-level-retries", "1"]
    run(rclone + ["mkdir", "cairn:rclone-big"], env)
    run(rclone + ["--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", "copyto", str(path), "cairn:rclone-big/dir/big.bin"], env)

    head = s3_of(server).head_object(Bucket="rclone-big", Key="dir/big.bin")
    assert head["ContentLength"] == SIZE
    assert head["ETag"] == multipart_etag(data, 5 * MiB)
    back = tmp_path / "back.bin"
    run(rclone + ["copyto", "cairn:rclone-big/dir/big.bin", str(back)], env)
    assert back.read_bytes() == data
    # rclone's own comparison of sizes and hashes (its MD5 comes from the object's metadata).
    run(rclone + ["check", str(path.parent), "cairn:rclone-big/dir", "--include", "big.bin"], env)
    run(rclone + ["deletefile", "cairn:rclone-big/dir/big.bin"], env)
    assert s3_of(server).list_objects_v2(Bucket="rclone-big").get("KeyCount") == 0


@pytest.mark.skipif(shutil.which("git-annex") is None, reason="git-annex is not installed")
def test_git_annex_s3_special_remote_uploads_a_large_file_in_parts(server, big_file, tmp_path):
    path, data = big_file
    repo = tmp_path / "repo"
    repo.mkdir()
    env = client_env({
        "AWS_ACCESS_KEY_ID": ROOT_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": ROOT_SECRET_KEY,
        "HOME": str(tmp_path), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
    })
    git = lambda *args: run(["git", *args], env, cwd=repo)
    git("init", "-q")
    git("annex", "init", "test")
    # git-annex refuses loopback addresses unless told otherwise.
    git("config", "annex.security.allowed-ip-addresses", "127.0.0.1")
    s3_of(server).create_bucket(Bucket="annex-big")
    git("annex", "initremote", "cairn", "type=S3", "encryption=none", "bucket=annex-big", "fileprefix=annex/",
        "host=127.0.0.1", "port=%d" % server.port, "protocol=http", "requeststyle=path",
        "datacenter=us-east-1", "partsize=6MiB")
    shutil.copy(path, repo / "big.bin")
    git("annex", "add", "big.bin")
    git("commit", "-q", "-m", "big")
    git("annex", "copy", "--to", "cairn", "big.bin")

    s3 = s3_of(server)
    # Beside the remote's annex-uuid marker, the file is stored under its git-annex key.
    stored = s3.list_objects_v2(Bucket="annex-big", Prefix="annex/SHA256E-")["Contents"]
    assert [o["Key"] for o in stored] == ["annex/SHA256E-s%d--%s.bin" % (SIZE, hashlib.sha256(data).hexdigest())]
    head = s3.head_object(Bucket="annex-big", Key=stored[0]["Key"])
    assert head["ContentLength"] == SIZE
    assert head["ETag"] == multipart_etag(data, ANNEX_PART)
    assert s3.get_object(Bucket="annex-big", Key=stored[0]["Key"])["Body"].read() == data
    # git-annex fetches it back and checks it against its key (the file's SHA-256).
    git("annex", "drop", "big.bin")
    git("annex", "get", "--from", "cairn", "big.bin")
    assert (repo / "big.bin").read_bytes() == data
    git("annex", "fsck", "--from", "cairn", "big.bin")
