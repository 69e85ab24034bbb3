"""boto 2.49 (Signature Version 2) against Cairn, path-style and virtual-hosted.

Each test runs twice (the `endpoint` fixture): boto's OrdinaryCallingFormat
against a plain server (`/bucket/key` on 127.0.0.1), and its default
SubdomainCallingFormat against a server started with `--domain localhost`
(boto connects to `<bucket>.localhost:<port>`, the bucket travels in the Host
header and SigV2 signs it in front of the path).
"""
import hashlib
import re
import time
import urllib.error
import urllib.request

import pytest
from boto.exception import S3ResponseError
from boto.s3.key import Key


def http_get(url):
    """A plain HTTP GET (no boto): (status, headers, body)."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def xml_value(body, tag):
    match = re.search(r"<%s>([^<]*)</%s>" % (tag, tag), body.decode("utf-8"))
    return match and match.group(1)


def bucket_name(endpoint, what):
    return "boto2-%s-%s" % (what, "vh" if endpoint.style == "virtual-hosted" else "ps")


def test_bucket_string_file_list_delete(endpoint, tmp_path):
    conn = endpoint.connect()
    name = bucket_name(endpoint, "crud")
    bucket = conn.create_bucket(name)
    assert name in [b.name for b in conn.get_all_buckets()]
    assert conn.get_bucket(name).name == name  # HEAD bucket (validate=True)

    # A string, as the tutorial stores one.
    k = Key(bucket)
    k.key = "foobar"
    k.set_contents_from_string("This is a test of S3")
    k2 = Key(conn.get_bucket(name))
    k2.key = "foobar"
    assert k2.get_contents_as_string() == b"This is a test of S3"

    # A file, with metadata (x-amz-meta-* headers are signed) and a key that
    # needs encoding in the path.
    source = tmp_path / "foo.jpg"
    payload = bytes(range(256)) * 4099
    source.write_bytes(payload)
    k = Key(bucket)
    k.key = "photos/2024 summer/foo~1.jpg"
    k.set_metadata("meta1", "This is the first metadata value")
    k.set_contents_from_filename(str(source))
    target = tmp_path / "bar.jpg"
    k.get_contents_to_filename(str(target))
    assert target.read_bytes() == payload
    got = bucket.get_key("photos/2024 summer/foo~1.jpg")
    assert got.size == len(payload)
    assert got.get_metadata("meta1") == "This is the first metadata value"
    assert got.etag.strip('"') == hashlib.md5(payload).hexdigest()

    # Listing: all keys, then with a prefix and a delimiter.
    assert sorted(key.name for key in bucket.list()) == ["foobar", "photos/2024 summer/foo~1.jpg"]
    assert [p.name for p in bucket.list(prefix="photos/", delimiter="/")] == ["photos/2024 summer/"]

    # Delete every key, then the bucket.
    for key in bucket.list():
        key.delete()
    assert list(bucket.list()) == []
    conn.delete_bucket(name)
    assert conn.lookup(name) is None


def test_presigned_get_with_urllib(endpoint):
    conn = endpoint.connect()
    name = bucket_name(endpoint, "url")
    bucket = conn.create_bucket(name)
    bucket.new_key("report.csv").set_contents_from_string("a,b\n1,2\n")

    url = conn.generate_url(expires_in=300, method="GET", bucket=name, key="report.csv")
    assert "Signature=" in url and "Expires=" in url and "AWSAccessKeyId=" in url
    if endpoint.style == "virtual-hosted":
        assert url.startswith("http://%s.localhost:%d/report.csv?" % (name, endpoint.server.port)), url
    else:
        assert url.startswith("http://127.0.0.1:%d/%s/report.csv?" % (endpoint.server.port, name)), url
    status, _, body = http_get(url)
    assert status == 200, body
    assert body == b"a,b\n1,2\n"

    # Response overrides are signed (decoded) as sub-resources.
    url = conn.generate_url(expires_in=300, method="GET", bucket=name, key="report.csv",
                            response_headers={"response-content-type": "text/csv",
                                              "response-content-disposition": 'attachment; filename="r.csv"'})
    status, headers, body = http_get(url)
    assert status == 200, body
    assert headers["Content-Type"] == "text/csv"
    assert headers["Content-Disposition"] == 'attachment; filename="r.csv"'


def test_presigned_expired_and_tampered(endpoint):
    conn = endpoint.connect()
    name = bucket_name(endpoint, "exp")
    conn.create_bucket(name).new_key("k").set_contents_from_string("v")

    expired = conn.generate_url(expires_in=1, method="GET", bucket=name, key="k")
    time.sleep(2)
    status, _, body = http_get(expired)
    assert status == 403
    assert xml_value(body, "Code") == "AccessDenied"
    assert xml_value(body, "Message") == "Request has expired"

    good = conn.generate_url(expires_in=300, method="GET", bucket=name, key="k")
    expires = re.search(r"Expires=(\d+)", good).group(1)
    for tampered in (good.replace("Expires=" + expires, "Expires=%d" % (int(expires) + 3600)),
                     good.replace("/k?", "/other?")):
        status, _, body = http_get(tampered)
        assert status == 403, tampered
        assert xml_value(body, "Code") == "SignatureDoesNotMatch"


def test_wrong_secret_and_unknown_key(endpoint):
    conn = endpoint.connect()
    name = bucket_name(endpoint, "keys")
    conn.create_bucket(name)

    with pytest.raises(S3ResponseError) as err:
        endpoint.connect(secret_key="not-the-secret-key").get_all_buckets()
    assert err.value.status == 403
    assert err.value.error_code == "SignatureDoesNotMatch"

    with pytest.raises(S3ResponseError) as err:
        endpoint.connect(secret_key="not-the-secret-key").get_bucket(name, validate=False).get_all_keys()
    assert err.value.status == 403
    assert err.value.error_code == "SignatureDoesNotMatch"

    with pytest.raises(S3ResponseError) as err:
        endpoint.connect(access_key="AKIDNOBODYKNOWS0000").get_all_buckets()
    assert err.value.status == 403
    assert err.value.error_code == "InvalidAccessKeyId"
