"""POST Object (browser form uploads) from Python `requests` with `files=`.

`requests.post(url, files=fields)` sends every field as a file part with a
filename (the field's own name, unless a tuple names it); S3 takes the file
from the part named `file` and reads every other part as a plain field. The
forms are signed with Signature V2 by hand and with Signature V4 by boto3's
`generate_presigned_post`; boto3 checks what was stored.
"""
import base64
import datetime
import hashlib
import hmac
import json
import re
from collections import OrderedDict

import boto3
import botocore.config
import botocore.exceptions
import pytest
import requests

from conftest import ROOT_ACCESS_KEY, ROOT_SECRET_KEY, Server

PRIVATE = "forms-private"
PUBLIC = "forms-public"


@pytest.fixture(scope="module")
def cairn():
    server = Server()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def s3(cairn):
    client = boto3.client("s3", endpoint_url=cairn.endpoint, region_name="us-east-1",
                          aws_access_key_id=ROOT_ACCESS_KEY, aws_secret_access_key=ROOT_SECRET_KEY,
                          config=botocore.config.Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    client.create_bucket(Bucket=PRIVATE)
    client.create_bucket(Bucket=PUBLIC, ACL="public-read-write")
    yield client
    client.close()


def url(cairn, bucket):
    return f"{cairn.endpoint}/{bucket}"


def v2_fields(conditions, expires_in=3600, access_key=ROOT_ACCESS_KEY, secret=ROOT_SECRET_KEY):
    """The V2 signature fields of a policy with `conditions`."""
    expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=expires_in)
    document = {"expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"), "conditions": conditions}
    policy = base64.b64encode(json.dumps(document).encode())
    signature = base64.b64encode(hmac.new(secret.encode(), policy, hashlib.sha1).digest())
    return OrderedDict([("AWSAccessKeyId", access_key), ("policy", policy), ("signature", signature)])


def form(*pairs, file=b"form body"):
    """Fields in order, then the file: the shape `requests.post(files=...)` takes."""
    return OrderedDict([*pairs, ("file", file)])


def error_code(response):
    match = re.search(r"<Code>([^<]*)</Code>", response.text)
    return match.group(1) if match else None


def absent(s3, bucket, key):
    with pytest.raises(botocore.exceptions.ClientError) as info:
        s3.head_object(Bucket=bucket, Key=key)
    return info.value.response["Error"]["Code"] == "404"


def test_every_part_a_file_part_anonymous_form_on_a_public_bucket(cairn, s3):
    fields = form(("key", "anon/note.txt"), ("acl", "public-read"), ("Content-Type", "text/plain"), file=b"dropped in")
    response = requests.post(url(cairn, PUBLIC), files=fields)
    assert response.status_code == 204, response.text
    assert response.content == b""
    got = s3.get_object(Bucket=PUBLIC, Key="anon/note.txt")
    assert got["Body"].read() == b"dropped in"
    assert got["ContentType"] == "text/plain"
    # The acl field applied: anyone may read it.
    assert requests.get(f"{url(cairn, PUBLIC)}/anon/note.txt").content == b"dropped in"
    # Not where the bucket's ACL keeps anonymous writers out.
    refused = requests.post(url(cairn, PRIVATE), files=form(("key", "anon/note.txt")))
    assert (refused.status_code, error_code(refused)) == (403, "AccessDenied")
    assert absent(s3, PRIVATE, "anon/note.txt")


def test_v2_signed_form_metadata_ignored_fields_and_the_filename_in_the_key(cairn, s3):
    conditions = [{"bucket": PRIVATE}, ["starts-with", "$key", "v2/"], {"acl": "private"},
                  ["starts-with", "$Content-Type", "text/"], ["starts-with", "$x-amz-meta-owner", "al"],
                  ["content-length-range", 0, 1024]]
    fields = form(("key", "v2/${filename}"), ("acl", "private"), ("Content-Type", "text/csv"),
                  ("x-amz-meta-owner", "alice"), ("x-ignore-submit", "Upload"), *v2_fields(conditions).items(),
                  file=("C:\\Users\\alice\\report.csv", b"a,b\n1,2\n"))
    response = requests.post(url(cairn, PRIVATE), files=fields)
    assert response.status_code == 204, response.text
    # Only the text after the last backslash is the filename.
    got = s3.get_object(Bucket=PRIVATE, Key="v2/report.csv")
    assert got["Body"].read() == b"a,b\n1,2\n"
    assert got["ContentType"] == "text/csv"
    assert got["Metadata"] == {"owner": "alice"}
    assert response.headers["ETag"] == got["ETag"]


def test_v4_form_from_boto3_generate_presigned_post(cairn, s3):
    post = s3.generate_presigned_post(
        PRIVATE, "v4/${filename}",
        Fields={"success_action_status": "201", "Content-Type": "image/png"},
        Conditions=[{"success_action_status": "201"}, ["starts-with", "$Content-Type", "image/"], ["content-length-range", 1, 4096]],
        ExpiresIn=600)
    content = b"\x89PNG not really"
    response = requests.post(post["url"], files=OrderedDict([*post["fields"].items(), ("file", ("pixel.png", content))]))
    assert response.status_code == 201, response.text
    assert re.search(r"<Key>v4/pixel.png</Key>", response.text)
    assert re.search(rf"<Bucket>{PRIVATE}</Bucket>", response.text)
    assert s3.get_object(Bucket=PRIVATE, Key="v4/pixel.png")["Body"].read() == content
    # The same fields sent as plain form fields (data=) work alike.
    again = requests.post(post["url"], data=post["fields"], files={"file": ("again.png", content)})
    assert again.status_code == 201, again.text
    assert s3.head_object(Bucket=PRIVATE, Key="v4/again.png")["ContentLength"] == len(content)


def test_success_statuses_and_the_redirect(cairn, s3):
    def status(value, key):
        return requests.post(url(cairn, PUBLIC), files=form(("key", key), ("success_action_status", value)))

    created = status("201", "status/created")
    assert created.status_code == 201
    assert re.search(r"<Key>status/created</Key>", created.text)
    assert created.headers["Content-Type"] == "application/xml"
    ok = status("200", "status/ok")
    assert (ok.status_code, ok.content) == (200, b"")
    # A value S3 does not know gives the default, 204 with no body.
    unknown = status("404", "status/unknown")
    assert (unknown.status_code, unknown.content) == (204, b"")
    assert s3.head_object(Bucket=PUBLIC, Key="status/unknown")["ContentLength"] == len(b"form body")

    # requests follows the 303 to the target with bucket, key and etag added.
    target = f"{url(cairn, PUBLIC)}?from=form"
    redirected = requests.post(url(cairn, PUBLIC), files=form(("key", "status/redirect"), ("success_action_redirect", target)))
    assert [r.status_code for r in redirected.history] == [303]
    assert redirected.status_code == 200
    etag = s3.head_object(Bucket=PUBLIC, Key="status/redirect")["ETag"]
    assert redirected.url == f"{target}&bucket={PUBLIC}&key=status%2Fredirect&etag={etag.replace(chr(34), '%22')}"


def test_condition_and_field_names_are_case_insensitive_values_are_literal(cairn, s3):
    conditions = [{"BuCkEt": PRIVATE}, ["StArTs-WiTh", "$KeY", "\\$price"], {"AcL": "private"},
                  ["EQ", "$cOnTeNt-TyPe", "text/plain"]]
    signed = v2_fields(conditions)
    fields = form(("kEY", "\\$price-list.txt"), ("aCl", "private"), ("CONTENT-TYPE", "text/plain"),
                  ("awsaccesskeyid", signed["AWSAccessKeyId"]), ("POLICY", signed["policy"]), ("Signature", signed["signature"]))
    response = requests.post(url(cairn, PRIVATE), files=fields)
    assert response.status_code == 204, response.text
    # The backslash is part of the key, as the policy's value is taken as written.
    assert s3.get_object(Bucket=PRIVATE, Key="\\$price-list.txt")["Body"].read() == b"form body"


@pytest.mark.parametrize("case", ["unknown key", "tampered signature", "expired", "other bucket", "eq fails", "unsent field", "unnamed field"])
def test_forms_s3_refuses_with_403_store_nothing(cairn, s3, case):
    key = f"refused/{case.replace(' ', '-')}"
    conditions = [{"bucket": PRIVATE}, {"key": key}, ["starts-with", "$Content-Type", "text/"]]
    fields = [("key", key), ("Content-Type", "text/plain")]
    signed = v2_fields(conditions)
    target = PRIVATE
    expected = "AccessDenied"
    if case == "unknown key":
        signed = v2_fields(conditions, access_key="AKIANOTAKEYWEKNOW000")
        expected = "InvalidAccessKeyId"
    elif case == "tampered signature":
        signed["signature"] = signed["signature"][::-1]
        expected = "SignatureDoesNotMatch"
    elif case == "expired":
        signed = v2_fields(conditions, expires_in=-60)
    elif case == "other bucket":
        # Posted to the public bucket, with a bucket field naming the one the policy allows.
        target = PUBLIC
        fields.append(("bucket", PRIVATE))
    elif case == "eq fails":
        signed = v2_fields([*conditions, ["eq", "$x-amz-meta-stage", ""]])
        fields.append(("x-amz-meta-stage", "draft"))
    elif case == "unsent field":
        signed = v2_fields([*conditions, ["starts-with", "$x-amz-meta-stage", ""]])
    elif case == "unnamed field":
        fields.append(("x-amz-meta-stage", "draft"))
    response = requests.post(url(cairn, target), files=form(*fields, *signed.items()))
    assert (response.status_code, error_code(response)) == (403, expected), response.text
    assert absent(s3, PRIVATE, key) and absent(s3, PUBLIC, key)


def test_tagging_field_anonymous_and_signed(cairn, s3):
    tagging = "<Tagging><TagSet><Tag><Key>team</Key><Value>web</Value></Tag><Tag><Key>tier</Key><Value></Value></Tag></TagSet></Tagging>"
    anonymous = requests.post(url(cairn, PUBLIC), files=form(("key", "tags/anonymous"), ("tagging", tagging)))
    assert anonymous.status_code == 204, anonymous.text
    expected = [{"Key": "team", "Value": "web"}, {"Key": "tier", "Value": ""}]
    assert s3.get_object_tagging(Bucket=PUBLIC, Key="tags/anonymous")["TagSet"] == expected
    signed = v2_fields([{"bucket": PRIVATE}, {"key": "tags/signed"}, ["starts-with", "$tagging", ""]])
    response = requests.post(url(cairn, PRIVATE), files=form(("key", "tags/signed"), ("tagging", tagging), *signed.items()))
    assert response.status_code == 204, response.text
    assert s3.get_object_tagging(Bucket=PRIVATE, Key="tags/signed")["TagSet"] == expected


def test_checksum_and_content_md5_fields(cairn, s3):
    content = b"checked " * 4096
    sha256 = base64.b64encode(hashlib.sha256(content).digest()).decode()
    md5 = base64.b64encode(hashlib.md5(content).digest()).decode()

    def post(key, name, value, named=True):
        conditions = [{"bucket": PRIVATE}, {"key": key}] + ([["starts-with", f"${name}", ""]] if named else [])
        return requests.post(url(cairn, PRIVATE), files=form(("key", key), (name, value), *v2_fields(conditions).items(), file=content))

    good = post("sums/sha256", "x-amz-checksum-sha256", sha256)
    assert good.status_code == 204, good.text
    head = s3.head_object(Bucket=PRIVATE, Key="sums/sha256", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == sha256
    wrong = post("sums/wrong", "x-amz-checksum-sha256", base64.b64encode(hashlib.sha256(b"other").digest()).decode())
    assert (wrong.status_code, error_code(wrong)) == (400, "BadDigest")
    malformed = post("sums/malformed", "x-amz-checksum-sha256", "not-a-checksum")
    assert (malformed.status_code, error_code(malformed)) == (400, "InvalidRequest")
    # Like any field, a checksum field needs a condition in the policy.
    unnamed = post("sums/unnamed", "x-amz-checksum-sha256", sha256, named=False)
    assert (unnamed.status_code, error_code(unnamed)) == (403, "AccessDenied")
    assert "Extra input fields: x-amz-checksum-sha256" in unnamed.text

    assert post("sums/md5", "Content-MD5", md5).status_code == 204
    assert s3.head_object(Bucket=PRIVATE, Key="sums/md5")["ETag"] == f'"{hashlib.md5(content).hexdigest()}"'
    bad_md5 = post("sums/bad-md5", "Content-MD5", base64.b64encode(hashlib.md5(b"other").digest()).decode())
    assert (bad_md5.status_code, error_code(bad_md5)) == (400, "BadDigest")
    for key in ("sums/wrong", "sums/malformed", "sums/unnamed", "sums/bad-md5"):
        assert absent(s3, PRIVATE, key)


@pytest.mark.parametrize("size", [3 * 1024 * 1024, 4 * 1024 * 1024 + 200])
def test_files_larger_than_one_read(cairn, s3, size):
    content = (hashlib.sha256(str(size).encode()).hexdigest().encode() * (size // 64 + 1))[:size]
    key = f"large/{size}"
    # Exactly this size: both bounds are inclusive.
    signed = v2_fields([{"bucket": PRIVATE}, {"key": key}, ["content-length-range", size, size]])
    response = requests.post(url(cairn, PRIVATE), files=form(("key", key), *signed.items(), file=content))
    assert response.status_code == 204, response.text
    assert response.headers["ETag"] == f'"{hashlib.md5(content).hexdigest()}"'
    assert s3.get_object(Bucket=PRIVATE, Key=key)["Body"].read() == content


def test_many_file_part_fields_all_arrive_before_the_file_and_their_limits(cairn, s3):
    # Fields read from file parts end after the parser moves on: each still lands before the file is taken.
    meta = [(f"x-amz-meta-f{i:02d}", f"value {i}") for i in range(40)]
    response = requests.post(url(cairn, PUBLIC), files=form(("key", "fields/many"), *meta))
    assert response.status_code == 204, response.text
    assert s3.head_object(Bucket=PUBLIC, Key="fields/many")["Metadata"] == {name[len("x-amz-meta-"):]: value for name, value in meta}

    # Fields after the file are ignored.
    trailing = OrderedDict([("key", "fields/trailing"), ("file", b"x"), ("x-amz-meta-late", "ignored")])
    assert requests.post(url(cairn, PUBLIC), files=trailing).status_code == 204
    assert s3.head_object(Bucket=PUBLIC, Key="fields/trailing")["Metadata"] == {}

    # What comes before the file counts against S3's 20 KB, file parts or not.
    padded = requests.post(url(cairn, PUBLIC), files=form(("key", "fields/padded"), ("x-ignore-pad", "p" * (21 * 1024))))
    assert (padded.status_code, error_code(padded)) == (400, "MaxPostPreDataLengthExceededError")
    # A field sent twice, once plain and once as a file part.
    twice = requests.post(url(cairn, PUBLIC), data={"key": "fields/twice"}, files=form(("KEY", "fields/twice")))
    assert (twice.status_code, error_code(twice)) == (400, "InvalidArgument")
    # A form without a part named file has no file, whatever its other parts carry.
    fileless = requests.post(url(cairn, PUBLIC), files=OrderedDict([("key", "fields/fileless"), ("upload", b"not the file")]))
    assert (fileless.status_code, error_code(fileless)) == (400, "InvalidArgument")
    for key in ("fields/padded", "fields/twice", "fields/fileless"):
        assert absent(s3, PUBLIC, key)


@pytest.mark.parametrize("field,value", [
    ("x-amz-server-side-encryption", "AES256"),
    ("x-amz-server-side-encryption-customer-algorithm", "AES256"),
])
def test_a_form_asking_for_encryption_is_refused_and_stores_nothing(cairn, s3, field, value):
    key = f"sse/{field}"
    response = requests.post(url(cairn, PUBLIC), files=form(("key", key), (field, value), file=b"secret"))
    assert (response.status_code, error_code(response)) == (501, "NotImplemented"), response.text
    assert absent(s3, PUBLIC, key)
