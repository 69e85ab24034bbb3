"""Versioning and Object Lock through boto3 and the AWS CLI against a real Cairn server.

The CLI's `list-object-versions` pages by itself (key-marker and version-id-marker
under --page-size), merging Versions and DeleteMarkers of every page; restoring an
older version is AWS's own recipe: copy it over the current one.
"""
import datetime
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor

import boto3
import botocore.exceptions
import pytest


@pytest.fixture
def s3(server, aws_env):
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=aws_env["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=aws_env["AWS_SECRET_ACCESS_KEY"])


def aws_api(server, env, *args):
    out = subprocess.run(["aws", "--endpoint-url", server.endpoint, "s3api", *args, "--output", "json"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, "aws s3api %s exited %d: %s" % (" ".join(args), out.returncode, out.stderr)
    return json.loads(out.stdout) if out.stdout.strip() else None


def aws_api_error(server, env, *args):
    out = subprocess.run(["aws", "--endpoint-url", server.endpoint, "s3api", *args],
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode != 0, "aws s3api %s unexpectedly succeeded" % " ".join(args)
    return out.stderr


def error_code(call):
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_boto3_versions_markers_and_suspended(s3):
    s3.create_bucket(Bucket="py-versions")
    s3.put_bucket_versioning(Bucket="py-versions", VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket="py-versions")["Status"] == "Enabled"
    v1 = s3.put_object(Bucket="py-versions", Key="doc", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket="py-versions", Key="doc", Body=b"two")["VersionId"]
    assert v1 != v2
    assert s3.get_object(Bucket="py-versions", Key="doc", VersionId=v1)["Body"].read() == b"one"

    marker = s3.delete_object(Bucket="py-versions", Key="doc")
    assert marker["DeleteMarker"] is True
    assert error_code(lambda: s3.get_object(Bucket="py-versions", Key="doc")) == ("NoSuchKey", 404)
    assert error_code(lambda: s3.get_object(Bucket="py-versions", Key="doc", VersionId=marker["VersionId"])) == ("MethodNotAllowed", 405)
    listed = s3.list_object_versions(Bucket="py-versions")
    assert [(v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == [(v2, False), (v1, False)]
    assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [(marker["VersionId"], True)]
    assert "Contents" not in s3.list_objects_v2(Bucket="py-versions")

    deleted = s3.delete_objects(Bucket="py-versions", Delete={"Objects": [{"Key": "doc", "VersionId": marker["VersionId"]}]})
    assert deleted["Deleted"][0]["DeleteMarker"] is True
    assert s3.get_object(Bucket="py-versions", Key="doc")["Body"].read() == b"two"

    s3.put_bucket_versioning(Bucket="py-versions", VersioningConfiguration={"Status": "Suspended"})
    put = s3.put_object(Bucket="py-versions", Key="doc", Body=b"null")
    assert "VersionId" not in put
    assert s3.head_object(Bucket="py-versions", Key="doc")["VersionId"] == "null"
    ids = [v["VersionId"] for v in s3.list_object_versions(Bucket="py-versions")["Versions"]]
    assert ids == ["null", v2, v1]


def test_boto3_object_lock(s3):
    s3.create_bucket(Bucket="py-locked", ObjectLockEnabledForBucket=True)
    until = datetime.datetime(2099, 1, 1, tzinfo=datetime.timezone.utc)
    put = s3.put_object(Bucket="py-locked", Key="k", Body=b"x", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until)
    head = s3.head_object(Bucket="py-locked", Key="k")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    assert head["ObjectLockRetainUntilDate"] == until
    assert s3.get_object_retention(Bucket="py-locked", Key="k")["Retention"] == {"Mode": "GOVERNANCE", "RetainUntilDate": until}
    assert error_code(lambda: s3.delete_object(Bucket="py-locked", Key="k", VersionId=put["VersionId"])) == ("AccessDenied", 403)
    assert error_code(lambda: s3.put_bucket_versioning(Bucket="py-locked", VersioningConfiguration={"Status": "Suspended"})) == ("InvalidBucketState", 409)
    s3.put_object_legal_hold(Bucket="py-locked", Key="k", LegalHold={"Status": "ON"})
    assert error_code(lambda: s3.delete_object(Bucket="py-locked", Key="k", VersionId=put["VersionId"], BypassGovernanceRetention=True)) == ("AccessDenied", 403)
    s3.put_object_legal_hold(Bucket="py-locked", Key="k", LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket="py-locked", Key="k", VersionId=put["VersionId"], BypassGovernanceRetention=True)
    assert "Versions" not in s3.list_object_versions(Bucket="py-locked")


def test_cli_pages_over_2500_versions_and_restores_an_old_one(server, aws_env, s3):
    s3.create_bucket(Bucket="cli-versions")
    aws_api(server, aws_env, "put-bucket-versioning", "--bucket", "cli-versions", "--versioning-configuration", "Status=Enabled")
    keys = ["k%02d" % i for i in range(25)]

    def write(key):
        return [s3.put_object(Bucket="cli-versions", Key=key, Body=("%s v%d" % (key, n)).encode())["VersionId"] for n in range(100)]

    with ThreadPoolExecutor(8) as pool:
        written = dict(zip(keys, pool.map(write, keys)))
    marker = s3.delete_object(Bucket="cli-versions", Key="k07")["VersionId"]

    # The CLI pages with --page-size and merges every page into one answer.
    out = aws_api(server, aws_env, "list-object-versions", "--bucket", "cli-versions", "--page-size", "300")
    got = [(v["Key"], v["VersionId"]) for v in out["Versions"]]
    assert got == [(k, vid) for k in keys for vid in reversed(written[k])]
    assert len(got) == 2500
    assert [(m["Key"], m["VersionId"], m["IsLatest"]) for m in out["DeleteMarkers"]] == [("k07", marker, True)]
    assert sum(1 for v in out["Versions"] if v["IsLatest"]) == 24

    # Paging by hand with --max-items and the CLI's NextToken sees each version once.
    seen = []
    token = None
    while True:
        args = ["list-object-versions", "--bucket", "cli-versions", "--prefix", "k1", "--max-items", "333"]
        page = aws_api(server, aws_env, *args, *(["--starting-token", token] if token else []))
        seen += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == [(k, vid) for k in keys if k.startswith("k1") for vid in reversed(written[k])]

    # Restore: copy the oldest version of k03 over the current one.
    oldest = written["k03"][0]
    copied = aws_api(server, aws_env, "copy-object", "--bucket", "cli-versions", "--key", "k03",
                     "--copy-source", "cli-versions/k03?versionId=%s" % oldest)
    assert copied["CopySourceVersionId"] == oldest
    assert s3.get_object(Bucket="cli-versions", Key="k03")["Body"].read() == b"k03 v0"
    history = aws_api(server, aws_env, "list-object-versions", "--bucket", "cli-versions", "--prefix", "k03")["Versions"]
    assert len(history) == 101
    assert history[0]["VersionId"] == copied["VersionId"] and history[0]["IsLatest"] is True

    # Deleting the marker by id brings k07 back.
    aws_api(server, aws_env, "delete-object", "--bucket", "cli-versions", "--key", "k07", "--version-id", marker)
    assert s3.get_object(Bucket="cli-versions", Key="k07")["Body"].read() == b"k07 v99"


def test_cli_object_lock(server, aws_env, tmp_path):
    aws_api(server, aws_env, "create-bucket", "--bucket", "cli-locked", "--object-lock-enabled-for-bucket")
    aws_api(server, aws_env, "put-object-lock-configuration", "--bucket", "cli-locked", "--object-lock-configuration",
            json.dumps({"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}}}))
    conf = aws_api(server, aws_env, "get-object-lock-configuration", "--bucket", "cli-locked")
    assert conf["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {"Mode": "COMPLIANCE", "Days": 1}
    body = tmp_path / "body.txt"
    body.write_bytes(b"locked for a day")
    put = aws_api(server, aws_env, "put-object", "--bucket", "cli-locked", "--key", "k", "--body", str(body))
    retention = aws_api(server, aws_env, "get-object-retention", "--bucket", "cli-locked", "--key", "k")
    assert retention["Retention"]["Mode"] == "COMPLIANCE"
    err = aws_api_error(server, aws_env, "delete-object", "--bucket", "cli-locked", "--key", "k",
                        "--version-id", put["VersionId"], "--bypass-governance-retention")
    assert "AccessDenied" in err
