"""The AWS CLI (`aws s3 …` and `aws s3api …`) against a real Cairn server.

Over plain HTTP the CLI (botocore ≥ 1.36) signs the whole payload
(X-Amz-Content-SHA256 is the body's SHA-256, not aws-chunked), sends
`Expect: 100-continue` on every PUT, and adds a CRC32 in `x-amz-checksum-crc32`
(with `x-amz-sdk-checksum-algorithm: CRC32`) to PutObject and UploadPart; files of
8 MiB or more go up as multipart uploads of 8 MiB parts.
"""
import hashlib
import json
import os
import time
import re
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest

MiB = 1024 * 1024
# s3transfer's defaults, which the CLI uses unless configured otherwise.
MULTIPART_CHUNK = 8 * MiB


class Aws:
    """Runs the `aws` program against one server with the test environment."""

    def __init__(self, server, env):
        self.endpoint = server.endpoint
        self.env = env

    def run(self, *args, check=True, timeout=300):
        out = subprocess.run(["aws", "--endpoint-url", self.endpoint, *args], env=self.env,
                             capture_output=True, text=True, timeout=timeout)
        if check:
            assert out.returncode == 0, "aws %s exited %d\nstdout: %s\nstderr: %s" % (
                " ".join(args), out.returncode, out.stdout, out.stderr)
        return out

    def s3(self, command, *args, **kw):
        # Only the transfer commands know --no-progress (progress lines would clutter the output).
        extra = ("--no-progress",) if command in ("cp", "mv", "sync") else ()
        return self.run("s3", command, *args, *extra, **kw).stdout

    def api(self, *args, **kw):
        """An `aws s3api` call; its JSON answer, or None when it prints nothing."""
        out = self.run("s3api", *args, "--output", "json", **kw).stdout
        return json.loads(out) if out.strip() else None


@pytest.fixture
def aws(server, aws_env):
    return Aws(server, aws_env)


def md5_of_file(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MiB), b""):
            h.update(block)
    return h.hexdigest()


def write_file(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    # S3's Last-Modified has one-second resolution; a file written in the second of
    # its upload would look newer than its object to the next `aws s3 sync` (as it
    # would against AWS). Dating it two seconds back keeps sync's decisions about content.
    then = time.time() - 2
    os.utime(path, (then, then))


def tree(root):
    """{relative path with '/': bytes} of every file under root."""
    files = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            with open(full, "rb") as f:
                files[rel] = f.read()
    return files


def listing(aws, bucket, prefix=""):
    """{key: size} from `aws s3 ls --recursive`."""
    out = aws.s3("ls", "--recursive", "s3://%s/%s" % (bucket, prefix))
    found = {}
    for line in out.splitlines():
        m = re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +(\d+) (.+)", line)
        assert m, "unexpected ls line: %r" % line
        found[m.group(2)] = int(m.group(1))
    return found


def transfers(output, verb):
    """The S3 side (s3://bucket/key) of each `upload:`/`download:`/`delete:` line of a cp/sync/rm output.

    (The local side is printed relative to the working directory.)"""
    found = []
    for line in output.splitlines():
        if line.startswith(verb + ": "):
            m = re.search(r"(?:^%s: | to )(s3://.+?)(?: to |$)" % verb, line)
            assert m, "no s3:// in %r" % line
            found.append(m.group(1))
    return sorted(found)


# --- aws s3 -----------------------------------------------------------------------------------

def test_mb_ls_lists_buckets(aws):
    aws.s3("mb", "s3://cli-alpha")
    aws.s3("mb", "s3://cli-beta")
    out = aws.s3("ls")
    names = [re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (\S+)", line).group(1) for line in out.splitlines()]
    assert names == ["cli-alpha", "cli-beta"]
    # Making a bucket that exists (and is ours) is fine in us-east-1.
    aws.s3("mb", "s3://cli-alpha")


def test_cp_up_and_down_keeps_bytes(aws, tmp_path):
    aws.s3("mb", "s3://cli-cp")
    cases = {
        "empty.bin": b"",
        "small.txt": b"hello, cairn\n",
        "inline-edge.bin": os.urandom(32 * 1024),        # the largest inline body
        "just-over.bin": os.urandom(32 * 1024 + 1),      # the smallest blob file
        "two-mib.bin": os.urandom(2 * MiB + 17),
    }
    for name, data in cases.items():
        write_file(str(tmp_path / "up" / name), data)
        out = aws.s3("cp", str(tmp_path / "up" / name), "s3://cli-cp/dir/" + name)
        assert transfers(out, "upload") == ["s3://cli-cp/dir/" + name]
    assert listing(aws, "cli-cp") == {"dir/" + n: len(d) for n, d in cases.items()}
    for name, data in cases.items():
        target = str(tmp_path / "down" / name)
        aws.s3("cp", "s3://cli-cp/dir/" + name, target)
        with open(target, "rb") as f:
            assert f.read() == data, name
    # The one-level listing shows the prefix as PRE, then the objects with their sizes.
    assert aws.s3("ls", "s3://cli-cp").splitlines() == ["                           PRE dir/"]
    lines = aws.s3("ls", "s3://cli-cp/dir/").splitlines()
    sizes = {line.split()[3]: int(line.split()[2]) for line in lines}
    assert sizes == {n: len(d) for n, d in cases.items()}


def test_cp_recursive_with_awkward_names(aws, tmp_path):
    aws.s3("mb", "s3://cli-names")
    names = ["a b/c d.txt", "plus+sign.txt", "ünïcödé/日本.txt", "tilde~/x=y&z.txt", "percent%20.txt"]
    for i, name in enumerate(names):
        write_file(str(tmp_path / "up" / name), ("body %d of %s" % (i, name)).encode())
    aws.s3("cp", "--recursive", str(tmp_path / "up"), "s3://cli-names/p/")
    assert sorted(listing(aws, "cli-names")) == sorted("p/" + n for n in names)
    aws.s3("cp", "--recursive", "s3://cli-names/p/", str(tmp_path / "down"))
    assert tree(str(tmp_path / "down")) == tree(str(tmp_path / "up"))


def test_cp_stdin_stdout_mv_and_presign(aws, tmp_path):
    aws.s3("mb", "s3://cli-streams")
    data = os.urandom(100 * 1024)
    # `cp -` reads the body from stdin (length unknown in advance); `cp … -` writes it to stdout.
    out = subprocess.run(["aws", "--endpoint-url", aws.endpoint, "s3", "cp", "-", "s3://cli-streams/piped.bin"],
                         input=data, env=aws.env, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    out = subprocess.run(["aws", "--endpoint-url", aws.endpoint, "s3", "cp", "s3://cli-streams/piped.bin", "-"],
                         env=aws.env, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout == data

    out = aws.s3("mv", "s3://cli-streams/piped.bin", "s3://cli-streams/moved/piped.bin")
    assert out.startswith("move: s3://cli-streams/piped.bin to s3://cli-streams/moved/piped.bin")
    assert listing(aws, "cli-streams") == {"moved/piped.bin": len(data)}

    # A presigned GET works without credentials, and the same URL with a tampered signature does not.
    # (CLI v1 presigns with SigV2 query parameters, AWSAccessKeyId/Signature/Expires, unless the
    # config asks for s3v4; CLI v2 uses SigV4's X-Amz-Signature.)
    url = aws.s3("presign", "s3://cli-streams/moved/piped.bin", "--expires-in", "300").strip()
    assert url.startswith(aws.endpoint + "/cli-streams/moved/piped.bin?")
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.read() == data
    bad, n = re.subn(r"([?&](?:X-Amz-)?Signature=)(.)", lambda m: m.group(1) + ("A" if m.group(2) != "A" else "B"), url)
    assert n == 1, url
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(bad, timeout=30)
    assert e.value.code == 403
    assert b"SignatureDoesNotMatch" in e.value.read()


def make_source_tree(root):
    """About twenty files in nested folders, small and large, with one empty file."""
    files = {}
    for i in range(20):
        depth = ["", "a/", "a/b/", "a/b/c/", "d/"][i % 5]
        size = [0, 1, 100, 5000, 40 * 1024, 300 * 1024][i % 6] + i
        if i == 0:
            size = 0
        rel = "%sfile-%02d.dat" % (depth, i)
        files[rel] = os.urandom(size)
        write_file(os.path.join(root, rel), files[rel])
    return files


def test_sync_up_modify_one_then_sync_down(aws, tmp_path):
    src = str(tmp_path / "src")
    files = make_source_tree(src)
    aws.s3("mb", "s3://cli-sync")

    out = aws.s3("sync", src, "s3://cli-sync/tree")
    assert len(transfers(out, "upload")) == len(files)
    assert listing(aws, "cli-sync") == {"tree/" + k: len(v) for k, v in files.items()}

    # Nothing changed: nothing goes up.
    assert transfers(aws.s3("sync", src, "s3://cli-sync/tree"), "upload") == []

    # One file changes (its size too, so the decision does not hang on clock resolution).
    changed = "a/b/file-07.dat"
    files[changed] = os.urandom(12345)
    write_file(os.path.join(src, changed), files[changed])
    out = aws.s3("sync", src, "s3://cli-sync/tree")
    assert transfers(out, "upload") == ["s3://cli-sync/tree/" + changed]

    # A local deletion propagates with --delete, and only that one.
    gone = "d/file-04.dat"
    os.remove(os.path.join(src, gone))
    del files[gone]
    out = aws.s3("sync", "--delete", src, "s3://cli-sync/tree")
    assert transfers(out, "upload") == []
    assert transfers(out, "delete") == ["s3://cli-sync/tree/" + gone]
    assert listing(aws, "cli-sync") == {"tree/" + k: len(v) for k, v in files.items()}

    dst = str(tmp_path / "dst")
    os.makedirs(dst)
    out = aws.s3("sync", "s3://cli-sync/tree", dst)
    assert len(transfers(out, "download")) == len(files)
    assert tree(dst) == files
    # The CLI gave each file the object's Last-Modified: a second sync down fetches nothing.
    assert aws.s3("sync", "s3://cli-sync/tree", dst).strip() == ""


def test_rm_single_and_recursive(aws, tmp_path):
    aws.s3("mb", "s3://cli-rm")
    src = str(tmp_path / "src")
    files = make_source_tree(src)
    aws.s3("sync", src, "s3://cli-rm")

    out = aws.s3("rm", "s3://cli-rm/file-05.dat")
    assert transfers(out, "delete") == ["s3://cli-rm/file-05.dat"]
    del files["file-05.dat"]
    assert listing(aws, "cli-rm") == {k: len(v) for k, v in files.items()}

    out = aws.s3("rm", "--recursive", "s3://cli-rm/a/")
    a_files = sorted(k for k in files if k.startswith("a/"))
    assert transfers(out, "delete") == ["s3://cli-rm/" + k for k in a_files]
    assert listing(aws, "cli-rm") == {k: len(v) for k, v in files.items() if not k.startswith("a/")}

    aws.s3("rm", "--recursive", "s3://cli-rm")
    assert listing(aws, "cli-rm") == {}


def test_rb_and_rb_force(aws, tmp_path):
    aws.s3("mb", "s3://cli-rb-empty")
    aws.s3("mb", "s3://cli-rb-full")
    write_file(str(tmp_path / "x" / "one.txt"), b"1")
    write_file(str(tmp_path / "x" / "deep" / "two.txt"), b"22")
    aws.s3("cp", "--recursive", str(tmp_path / "x"), "s3://cli-rb-full")

    aws.s3("rb", "s3://cli-rb-empty")
    # A bucket with objects cannot be removed without --force.
    out = aws.run("s3", "rb", "s3://cli-rb-full", check=False)
    assert out.returncode != 0
    assert "BucketNotEmpty" in out.stderr
    out = aws.s3("rb", "--force", "s3://cli-rb-full")
    assert "remove_bucket: cli-rb-full" in out
    assert aws.s3("ls").strip() == ""


def test_big_file_multipart_up_and_down(aws, tmp_path):
    size = 105 * MiB + 12345
    big = str(tmp_path / "big.bin")
    md5 = hashlib.md5()
    part_md5s = []
    with open(big, "wb") as f:
        written = 0
        part = hashlib.md5()
        while written < size:
            block = os.urandom(min(MiB, size - written))
            f.write(block)
            md5.update(block)
            part.update(block)
            written += len(block)
            if written % MULTIPART_CHUNK == 0 or written == size:
                part_md5s.append(part.digest())
                part = hashlib.md5()
    try:
        aws.s3("mb", "s3://cli-big")
        aws.s3("cp", big, "s3://cli-big/big.bin")
        head = aws.api("head-object", "--bucket", "cli-big", "--key", "big.bin")
        assert head["ContentLength"] == size
        # A multipart ETag: MD5 of the parts' binary MD5s, dash, number of parts.
        expected_etag = '"%s-%d"' % (hashlib.md5(b"".join(part_md5s)).hexdigest(), len(part_md5s))
        assert head["ETag"] == expected_etag
        assert listing(aws, "cli-big") == {"big.bin": size}

        down = str(tmp_path / "big.down")
        aws.s3("cp", "s3://cli-big/big.bin", down)
        assert os.path.getsize(down) == size
        assert md5_of_file(down) == md5.hexdigest()
    finally:
        shutil.rmtree(str(tmp_path), ignore_errors=True)


# --- aws s3api ----------------------------------------------------------------------------------

def test_s3api_round_trips(aws, tmp_path):
    bucket = "cli-api"
    aws.api("create-bucket", "--bucket", bucket)
    body = os.urandom(70000)
    write_file(str(tmp_path / "body.bin"), body)
    body_md5 = hashlib.md5(body).hexdigest()

    put = aws.api("put-object", "--bucket", bucket, "--key", "docs/report.bin", "--body", str(tmp_path / "body.bin"),
                  "--metadata", "owner=alice,project=cairn", "--content-type", "application/x-report")
    assert put["ETag"] == '"%s"' % body_md5
    # The CLI asked for a CRC32 and the server answers with the one it verified.
    assert put.get("ChecksumCRC32")

    head = aws.api("head-object", "--bucket", bucket, "--key", "docs/report.bin")
    assert head["ContentLength"] == len(body)
    assert head["ContentType"] == "application/x-report"
    assert head["Metadata"] == {"owner": "alice", "project": "cairn"}
    assert head["ETag"] == '"%s"' % body_md5
    assert "LastModified" in head

    got = aws.api("get-object", "--bucket", bucket, "--key", "docs/report.bin", str(tmp_path / "got.bin"))
    assert got["ContentLength"] == len(body)
    assert got["ContentType"] == "application/x-report"
    assert got["Metadata"] == {"owner": "alice", "project": "cairn"}
    with open(str(tmp_path / "got.bin"), "rb") as f:
        assert f.read() == body

    # A range.
    part = aws.api("get-object", "--bucket", bucket, "--key", "docs/report.bin", "--range", "bytes=100-199",
                   str(tmp_path / "range.bin"))
    assert part["ContentLength"] == 100
    assert part["ContentRange"] == "bytes 100-199/%d" % len(body)
    with open(str(tmp_path / "range.bin"), "rb") as f:
        assert f.read() == body[100:200]

    # copy-object keeps metadata by default; REPLACE sets new metadata and content type.
    copied = aws.api("copy-object", "--bucket", bucket, "--key", "copies/same.bin",
                     "--copy-source", bucket + "/docs/report.bin")
    assert copied["CopyObjectResult"]["ETag"] == '"%s"' % body_md5
    head = aws.api("head-object", "--bucket", bucket, "--key", "copies/same.bin")
    assert head["Metadata"] == {"owner": "alice", "project": "cairn"}
    assert head["ContentType"] == "application/x-report"
    aws.api("copy-object", "--bucket", bucket, "--key", "copies/replaced.bin",
            "--copy-source", bucket + "/docs/report.bin", "--metadata-directive", "REPLACE",
            "--metadata", "owner=bob", "--content-type", "text/plain")
    head = aws.api("head-object", "--bucket", bucket, "--key", "copies/replaced.bin")
    assert head["Metadata"] == {"owner": "bob"}
    assert head["ContentType"] == "text/plain"
    assert head["ContentLength"] == len(body)

    for i in range(3):
        aws.api("put-object", "--bucket", bucket, "--key", "tmp/%d" % i, "--body", str(tmp_path / "body.bin"))

    listed = aws.api("list-objects-v2", "--bucket", bucket)
    assert [o["Key"] for o in listed["Contents"]] == [
        "copies/replaced.bin", "copies/same.bin", "docs/report.bin", "tmp/0", "tmp/1", "tmp/2"]
    assert all(o["Size"] == len(body) for o in listed["Contents"])
    # The CLI merges pages and drops KeyCount from the merged answer; ask for one page to see it.
    one_page = aws.api("list-objects-v2", "--bucket", bucket, "--no-paginate")
    assert one_page["KeyCount"] == 6
    assert one_page["IsTruncated"] is False
    rolled = aws.api("list-objects-v2", "--bucket", bucket, "--delimiter", "/", "--prefix", "")
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["copies/", "docs/", "tmp/"]
    assert "Contents" not in rolled
    # Pagination: the CLI follows continuation tokens itself with --page-size.
    paged = aws.api("list-objects-v2", "--bucket", bucket, "--page-size", "2")
    assert [o["Key"] for o in paged["Contents"]] == [o["Key"] for o in listed["Contents"]]

    deleted = aws.api("delete-objects", "--bucket", bucket, "--delete",
                      json.dumps({"Objects": [{"Key": "tmp/0"}, {"Key": "tmp/1"}, {"Key": "never-existed"}]}))
    assert sorted(d["Key"] for d in deleted["Deleted"]) == ["never-existed", "tmp/0", "tmp/1"]
    assert "Errors" not in deleted
    aws.api("delete-object", "--bucket", bucket, "--key", "tmp/2")
    listed = aws.api("list-objects-v2", "--bucket", bucket)
    assert [o["Key"] for o in listed["Contents"]] == ["copies/replaced.bin", "copies/same.bin", "docs/report.bin"]

    # A bucket with objects cannot go; once emptied it can.
    out = aws.run("s3api", "delete-bucket", "--bucket", bucket, check=False)
    assert out.returncode != 0 and "BucketNotEmpty" in out.stderr
    aws.api("delete-objects", "--bucket", bucket, "--delete", json.dumps(
        {"Objects": [{"Key": o["Key"]} for o in listed["Contents"]], "Quiet": True}))
    aws.api("delete-bucket", "--bucket", bucket)
    assert aws.api("list-buckets")["Buckets"] == []


def test_s3api_object_tagging(aws, tmp_path):
    bucket = "cli-tagging"
    aws.api("create-bucket", "--bucket", bucket)
    write_file(str(tmp_path / "body.txt"), b"tagged by the CLI\n")
    aws.api("put-object", "--bucket", bucket, "--key", "obj", "--body", str(tmp_path / "body.txt"), "--tagging", "from=put&empty=")
    # S3 answers the set in key order.
    assert aws.api("get-object-tagging", "--bucket", bucket, "--key", "obj")["TagSet"] == [
        {"Key": "empty", "Value": ""}, {"Key": "from", "Value": "put"}]
    # put-object-tagging sends its body with the integrity check S3 requires; an unversioned bucket reports no version.
    assert aws.api("put-object-tagging", "--bucket", bucket, "--key", "obj",
                   "--tagging", json.dumps({"TagSet": [{"Key": "team", "Value": "storage"}, {"Key": "tier", "Value": "cold"}]})) is None
    got = aws.api("get-object-tagging", "--bucket", bucket, "--key", "obj")
    assert got == {"TagSet": [{"Key": "team", "Value": "storage"}, {"Key": "tier", "Value": "cold"}]}
    assert aws.api("head-object", "--bucket", bucket, "--key", "obj")["TagCount"] == 2

    out = aws.run("s3api", "put-object-tagging", "--bucket", bucket, "--key", "obj",
                  "--tagging", json.dumps({"TagSet": [{"Key": "aws:owned", "Value": "x"}]}), check=False)
    assert out.returncode != 0 and "InvalidTag" in out.stderr
    out = aws.run("s3api", "get-object-tagging", "--bucket", bucket, "--key", "missing", check=False)
    assert out.returncode != 0 and "NoSuchKey" in out.stderr

    aws.api("delete-object-tagging", "--bucket", bucket, "--key", "obj")
    assert aws.api("get-object-tagging", "--bucket", bucket, "--key", "obj")["TagSet"] == []


def test_s3api_errors(aws, tmp_path):
    aws.api("create-bucket", "--bucket", "cli-errors")
    out = aws.run("s3api", "get-object", "--bucket", "cli-errors", "--key", "missing", str(tmp_path / "x"), check=False)
    assert out.returncode != 0
    assert "NoSuchKey" in out.stderr
    assert not os.path.exists(str(tmp_path / "x"))

    out = aws.run("s3api", "get-object", "--bucket", "cli-no-such-bucket", "--key", "k", str(tmp_path / "x"), check=False)
    assert out.returncode != 0
    assert "NoSuchBucket" in out.stderr

    # HEAD has no body, so the CLI can only report the status.
    out = aws.run("s3api", "head-object", "--bucket", "cli-errors", "--key", "missing", check=False)
    assert out.returncode != 0
    assert "404" in out.stderr

    out = aws.run("s3api", "create-bucket", "--bucket", "Bad_Name", check=False)
    assert out.returncode != 0
    assert "InvalidBucketName" in out.stderr

    out = aws.run("s3", "cp", "s3://cli-errors/missing", str(tmp_path / "y"), check=False)
    assert out.returncode != 0
    assert "404" in out.stderr


def test_wrong_secret_is_rejected(server, aws_env, tmp_path):
    env = dict(aws_env, AWS_SECRET_ACCESS_KEY="not-the-right-secret-00000000000000000000")
    out = subprocess.run(["aws", "--endpoint-url", server.endpoint, "s3api", "list-buckets"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "SignatureDoesNotMatch" in out.stderr
    env = dict(aws_env, AWS_ACCESS_KEY_ID="NOSUCHKEY00000000000")
    out = subprocess.run(["aws", "--endpoint-url", server.endpoint, "s3api", "list-buckets"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "InvalidAccessKeyId" in out.stderr
