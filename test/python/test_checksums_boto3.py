"""Multipart checksums and GetObjectAttributes through boto3 against a real Cairn process.

boto3 computes each part's checksum itself and validates the checksums of GET
responses; the object checksums expected here are computed independently
(hashlib, zlib). CRC32C and CRC64NVME need awscrt in botocore, so they are
covered by the SDK v3 tests instead.
"""
import base64
import hashlib
import zlib

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ROOT_ACCESS_KEY, ROOT_SECRET_KEY

MIB = 1024 * 1024
BODIES = [bytes([i]) * (5 * MIB) for i in (65, 66)] + [b"tail" * 1000]


def client_for(server):
    return boto3.client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=ROOT_ACCESS_KEY, aws_secret_access_key=ROOT_SECRET_KEY,
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )


def b64(raw):
    return base64.b64encode(raw).decode()


def digest(algorithm, data):
    if algorithm == "CRC32":
        return zlib.crc32(data).to_bytes(4, "big")
    return hashlib.new(algorithm.lower(), data).digest()


def expected_object_checksum(algorithm, checksum_type):
    if checksum_type == "FULL_OBJECT":
        return b64(digest(algorithm, b"".join(BODIES)))
    joined = b"".join(digest(algorithm, body) for body in BODIES)
    return f"{b64(digest(algorithm, joined))}-{len(BODIES)}"


def upload(s3, bucket, key, algorithm, checksum_type):
    created = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm=algorithm, ChecksumType=checksum_type)
    assert created["ChecksumAlgorithm"] == algorithm
    upload_id = created["UploadId"]
    field = "Checksum" + algorithm
    parts = []
    for number, body in enumerate(BODIES, start=1):
        out = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body, ChecksumAlgorithm=algorithm)
        assert out[field] == b64(digest(algorithm, body))
        parts.append({"PartNumber": number, "ETag": out["ETag"], field: out[field]})
    return upload_id, parts


@pytest.mark.parametrize("algorithm,checksum_type", [
    ("SHA256", "COMPOSITE"), ("SHA1", "COMPOSITE"), ("CRC32", "COMPOSITE"), ("CRC32", "FULL_OBJECT"),
])
def test_multipart_checksum_parts_and_attributes(server, algorithm, checksum_type):
    s3 = client_for(server)
    s3.create_bucket(Bucket="sums")
    key = f"obj-{algorithm}-{checksum_type}"
    field = "Checksum" + algorithm
    upload_id, parts = upload(s3, "sums", key, algorithm, checksum_type)
    whole = expected_object_checksum(algorithm, checksum_type)

    done = s3.complete_multipart_upload(Bucket="sums", Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}, **{field: whole})
    assert done[field] == whole
    assert done["ChecksumType"] == checksum_type
    # A retried completion answers what the first one did.
    again = s3.complete_multipart_upload(Bucket="sums", Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}, **{field: whole})
    assert (again["ETag"], again[field]) == (done["ETag"], whole)

    head = s3.head_object(Bucket="sums", Key=key, ChecksumMode="ENABLED")
    assert (head[field], head["ChecksumType"]) == (whole, checksum_type)
    # Each part by number, with its own checksum (boto3 checks it against the bytes).
    for number, body in enumerate(BODIES, start=1):
        got = s3.get_object(Bucket="sums", Key=key, PartNumber=number, ChecksumMode="ENABLED")
        assert got["Body"].read() == body
        assert got[field] == parts[number - 1][field]
        assert got["ChecksumType"] == checksum_type
        assert got["PartsCount"] == len(BODIES)

    attrs = s3.get_object_attributes(Bucket="sums", Key=key, ObjectAttributes=["ETag", "Checksum", "ObjectParts", "ObjectSize"])
    assert attrs["ETag"] == done["ETag"].strip('"')
    assert attrs["ObjectSize"] == sum(len(b) for b in BODIES)
    assert attrs["Checksum"] == {field: whole, "ChecksumType": checksum_type}
    assert attrs["ObjectParts"]["TotalPartsCount"] == len(BODIES)
    assert [(p["PartNumber"], p["Size"], p[field]) for p in attrs["ObjectParts"]["Parts"]] == [
        (n, len(b), parts[n - 1][field]) for n, b in enumerate(BODIES, start=1)]

    paged = s3.get_object_attributes(Bucket="sums", Key=key, ObjectAttributes=["ObjectParts"], MaxParts=1, PartNumberMarker=1)
    assert paged["ObjectParts"]["IsTruncated"] is True
    assert paged["ObjectParts"]["NextPartNumberMarker"] == 2
    assert [p["PartNumber"] for p in paged["ObjectParts"]["Parts"]] == [2]


def test_wrong_object_checksum_on_completion_is_bad_digest(server):
    s3 = client_for(server)
    s3.create_bucket(Bucket="sums")
    upload_id, parts = upload(s3, "sums", "wrong", "SHA256", "COMPOSITE")
    wrong = b64(hashlib.sha256(b"something else").digest()) + "-3"
    with pytest.raises(ClientError) as failure:
        s3.complete_multipart_upload(Bucket="sums", Key="wrong", UploadId=upload_id, MultipartUpload={"Parts": parts}, ChecksumSHA256=wrong)
    assert failure.value.response["Error"]["Code"] == "BadDigest"
    assert failure.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # Nothing was stored, and the upload can still complete.
    with pytest.raises(ClientError) as missing:
        s3.head_object(Bucket="sums", Key="wrong")
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    done = s3.complete_multipart_upload(Bucket="sums", Key="wrong", UploadId=upload_id, MultipartUpload={"Parts": parts})
    assert done["ChecksumSHA256"] == expected_object_checksum("SHA256", "COMPOSITE")
