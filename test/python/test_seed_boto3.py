"""The two boto3 scripts of the seed document, run unchanged (but for the endpoint) against Cairn."""
import datetime
import hashlib
import os
import re
import subprocess

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))

# The objects the seed document shows, with the sizes it shows.
SEED_OBJECTS = {
    "bucket-1": {
        "c1ca2-filename-00001": 20950,
        "c9872-filename-00002": 533,
        "98837-filename-00003": 1989,
        "abfc4-filename-00004": 837,
    },
    "bucket-2": {"c1ca2-filename-00011": 112001},
}


def body_of(key, size):
    return (hashlib.sha256(key.encode()).hexdigest() * (size // 64 + 1)).encode()[:size]


def populate(endpoint, env):
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    for bucket, objects in SEED_OBJECTS.items():
        s3.create_bucket(Bucket=bucket)
        for key, size in objects.items():
            s3.put_object(Bucket=bucket, Key=key, Body=body_of(key, size))


def run_script(name, endpoint, env):
    with open(os.path.join(HERE, "seed", name)) as f:
        source = f.read().replace("ENDPOINT", endpoint)
    # On a machine whose local zone is UTC, dateutil labels ISO 'Z' times tzlocal();
    # elsewhere (as where the seed was printed) they print as tzutc().
    env = dict(env, TZ="America/New_York")
    out = subprocess.run(["python3", "-c", source], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_service_resource_script_prints_buckets_and_keys(server, aws_env):
    populate(server.endpoint, aws_env)
    lines = run_script("resource_script.py", server.endpoint, aws_env).splitlines()
    # Buckets in name order, each followed by its keys in S3's (byte) order.
    expected = []
    for bucket in sorted(SEED_OBJECTS):
        expected.append(bucket)
        expected.extend("  - " + key for key in sorted(SEED_OBJECTS[bucket]))
    assert lines == expected


def parse_pprint_blocks(text):
    """Splits the client script's output into its printed Python literals."""
    blocks = re.split(r"^(?:These are the buckets in this service account:|Raw output from 'list_buckets\(\)' in .*:)$",
                      text, flags=re.M)
    env = {"datetime": datetime, "tzutc": lambda: datetime.timezone.utc}
    return [eval(b, env) for b in blocks if b.strip()]  # noqa: S307 - our own test output


def test_low_level_client_script_prints_every_field(server, aws_env):
    populate(server.endpoint, aws_env)
    before = datetime.datetime.now(datetime.timezone.utc)
    output = run_script("client_script.py", server.endpoint, aws_env)
    assert "Raw output from 'list_buckets()' in bucket-1:" in output
    assert "Raw output from 'list_buckets()' in bucket-2:" in output
    assert "tzinfo=tzutc()" in output
    listing, *object_lists = parse_pprint_blocks(output)

    assert [b["Name"] for b in listing["Buckets"]] == ["bucket-1", "bucket-2"]
    for b in listing["Buckets"]:
        assert isinstance(b["CreationDate"], datetime.datetime)
        assert b["CreationDate"].tzinfo is not None
        assert abs((before - b["CreationDate"]).total_seconds()) < 120
    owner = listing["Owner"]
    assert owner["DisplayName"] == "root"
    assert re.fullmatch(r"[0-9a-f]{64}", owner["ID"])
    check_response_metadata(listing["ResponseMetadata"])

    assert len(object_lists) == 2
    for objects, bucket in zip(object_lists, sorted(SEED_OBJECTS)):
        assert objects["Name"] == bucket
        assert objects["Delimiter"] == ""
        assert objects["IsTruncated"] is False
        assert objects["Marker"] == ""
        assert objects["MaxKeys"] == 1000
        assert objects["Prefix"] == ""
        check_response_metadata(objects["ResponseMetadata"])
        assert [c["Key"] for c in objects["Contents"]] == sorted(SEED_OBJECTS[bucket])
        for c in objects["Contents"]:
            size = SEED_OBJECTS[bucket][c["Key"]]
            assert c["Size"] == size
            assert c["ETag"] == '"%s"' % hashlib.md5(body_of(c["Key"], size)).hexdigest()
            assert isinstance(c["LastModified"], datetime.datetime)
            assert c["LastModified"].tzinfo is not None
            assert c["Owner"] == owner
            assert c["StorageClass"] == "STANDARD"


def check_response_metadata(meta):
    assert meta["HTTPStatusCode"] == 200
    assert meta["RetryAttempts"] == 0
    headers = meta["HTTPHeaders"]
    assert re.fullmatch(r"[0-9A-F]{16}", headers["x-amz-request-id"])
    assert meta["RequestId"] == headers["x-amz-request-id"]
    assert meta["HostId"] == headers["x-amz-id-2"]
    assert headers["server"] == "Cairn"
    assert headers["content-type"] == "application/xml"
    assert int(headers["content-length"]) > 0
    assert headers["date"].endswith(" GMT")
