"""Bucket policies through boto3 and the AWS CLI against a real Cairn server: a read-only
public policy, a policy letting another account write under one prefix, and one denying
everything not over TLS or not from an address range."""
import json
import os

import boto3
import botocore.config
import botocore.exceptions
import pytest
from botocore import UNSIGNED

from conftest import ROOT_ACCESS_KEY, ROOT_SECRET_KEY
from test_aws_cli import Aws
from test_https import certs, https_server  # noqa: F401 (fixtures)

OTHER_ID = "a1b2c3d4" * 8
OTHER_KEY = ("POLICYPYOTHERKEY0001", "policy-py-other-secret-00000000000000000")


def client(endpoint, key=ROOT_ACCESS_KEY, secret=ROOT_SECRET_KEY, verify=None, unsigned=False):
    config = botocore.config.Config(retries={"max_attempts": 1}, **({"signature_version": UNSIGNED} if unsigned else {}))
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret, verify=verify, config=config)


def denied(call, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(**kwargs)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert e.value.response["Error"]["Code"] == "AccessDenied"


def public_read(bucket):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"], "Resource": f"arn:aws:s3:::{bucket}/*"},
        {"Sid": "PublicList", "Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"},
    ]})


def test_boto3_read_only_public_policy(server):
    s3 = client(server.endpoint)
    anon = client(server.endpoint, unsigned=True)
    s3.create_bucket(Bucket="public-py")
    s3.put_object(Bucket="public-py", Key="index.html", Body=b"<h1>hi</h1>")
    denied(anon.get_object, Bucket="public-py", Key="index.html")
    assert s3.get_bucket_policy_status(Bucket="public-py")["PolicyStatus"]["IsPublic"] is False

    policy = public_read("public-py")
    s3.put_bucket_policy(Bucket="public-py", Policy=policy)
    assert s3.get_bucket_policy(Bucket="public-py")["Policy"] == policy
    assert s3.get_bucket_policy_status(Bucket="public-py")["PolicyStatus"]["IsPublic"] is True
    assert anon.get_object(Bucket="public-py", Key="index.html")["Body"].read() == b"<h1>hi</h1>"
    assert [o["Key"] for o in anon.list_objects_v2(Bucket="public-py")["Contents"]] == ["index.html"]
    # Read-only: no writes, no deletes, no policy reading for strangers.
    denied(anon.put_object, Bucket="public-py", Key="evil.html", Body=b"x")
    denied(anon.delete_object, Bucket="public-py", Key="index.html")
    denied(anon.get_bucket_policy, Bucket="public-py")

    s3.delete_bucket_policy(Bucket="public-py")
    denied(anon.get_object, Bucket="public-py", Key="index.html")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_policy(Bucket="public-py")
    assert e.value.response["Error"]["Code"] == "NoSuchBucketPolicy"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_boto3_another_account_writes_under_one_prefix(server):
    server.create_account(OTHER_ID, "Other", "other@example.com", *OTHER_KEY)
    s3 = client(server.endpoint)
    other = client(server.endpoint, *OTHER_KEY)
    s3.create_bucket(Bucket="dropbox-py")
    s3.put_bucket_policy(Bucket="dropbox-py", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER_ID}:root"},
        "Action": "s3:PutObject", "Resource": "arn:aws:s3:::dropbox-py/incoming/*"}]}))
    other.put_object(Bucket="dropbox-py", Key="incoming/report.csv", Body=b"a,b\n")
    denied(other.put_object, Bucket="dropbox-py", Key="elsewhere/report.csv", Body=b"a,b\n")
    denied(other.list_objects_v2, Bucket="dropbox-py")
    denied(other.delete_object, Bucket="dropbox-py", Key="incoming/report.csv")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="dropbox-py")["Contents"]] == ["incoming/report.csv"]
    # A malformed policy is refused and the stored one is kept.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_policy(Bucket="dropbox-py", Policy='{"Version": "2012-10-17", "Statement": [{"Effect": "Perhaps"}]}')
    assert e.value.response["Error"]["Code"] == "MalformedPolicy"
    assert "incoming" in s3.get_bucket_policy(Bucket="dropbox-py")["Policy"]


def secure_policy(bucket, cidrs):
    resources = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": resources,
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "RangeOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": resources,
         "Condition": {"NotIpAddress": {"aws:SourceIp": cidrs}}},
    ]})


def test_boto3_deny_without_tls_or_outside_an_address_range(https_server, certs):  # noqa: F811
    plain = client(https_server.endpoint)
    tls = client(https_server.https_endpoint, verify=os.path.join(certs, "ca.pem"))
    plain.create_bucket(Bucket="secure-py")
    plain.put_object(Bucket="secure-py", Key="k", Body=b"secret")
    plain.put_bucket_policy(Bucket="secure-py", Policy=secure_policy("secure-py", ["127.0.0.0/8", "::1/128"]))
    # Even the owner is subject to an explicit Deny.
    denied(plain.get_object, Bucket="secure-py", Key="k")
    denied(plain.put_object, Bucket="secure-py", Key="k2", Body=b"x")
    assert tls.get_object(Bucket="secure-py", Key="k")["Body"].read() == b"secret"
    # From outside the range nothing goes, TLS or not...
    tls.put_bucket_policy(Bucket="secure-py", Policy=secure_policy("secure-py", ["192.0.2.0/24"]))
    denied(tls.get_object, Bucket="secure-py", Key="k")
    denied(tls.list_objects_v2, Bucket="secure-py")
    # ...but the owner may still manage the policy itself, as in AWS.
    plain.delete_bucket_policy(Bucket="secure-py")
    assert plain.get_object(Bucket="secure-py", Key="k")["Body"].read() == b"secret"


def test_aws_cli_round_trips_a_public_policy(server, aws_env, tmp_path):
    aws = Aws(server, aws_env)
    aws.api("create-bucket", "--bucket", "cli-policy")
    (tmp_path / "page.txt").write_text("public page")
    aws.s3("cp", str(tmp_path / "page.txt"), "s3://cli-policy/page.txt")
    (tmp_path / "policy.json").write_text(public_read("cli-policy"))
    aws.api("put-bucket-policy", "--bucket", "cli-policy", "--policy", "file://" + str(tmp_path / "policy.json"))
    got = aws.api("get-bucket-policy", "--bucket", "cli-policy")
    assert json.loads(got["Policy"]) == json.loads(public_read("cli-policy"))
    assert aws.api("get-bucket-policy-status", "--bucket", "cli-policy")["PolicyStatus"]["IsPublic"] is True
    assert aws.run("s3", "cp", "s3://cli-policy/page.txt", "-", "--no-sign-request").stdout == "public page"
    refused = aws.run("s3", "cp", str(tmp_path / "page.txt"), "s3://cli-policy/other.txt", "--no-sign-request", check=False)
    assert refused.returncode != 0 and "AccessDenied" in refused.stderr
    aws.api("delete-bucket-policy", "--bucket", "cli-policy")
    gone = aws.run("s3api", "get-bucket-policy", "--bucket", "cli-policy", check=False)
    assert gone.returncode != 0 and "NoSuchBucketPolicy" in gone.stderr
