"""The seed tutorial's CORS section (shared/seeds/002_cd7974aa9efbee14.txt) as written, with boto 2.49:
CORSConfiguration, add_rule, set_cors, get_cors, delete_cors; path-style and virtual-hosted."""
import http.client

import pytest
from boto.exception import S3ResponseError
from boto.s3.cors import CORSConfiguration

OTHER = {"id": "c" * 64, "name": "stranger", "email": "stranger@example.com",
         "ak": "CAIRNSTRANGERKEY0001", "sk": "stranger-secret-key-00000000000000000000"}


def rules_of(cfg):
    return [(r.allowed_method, r.allowed_origin, r.allowed_header, r.max_age_seconds, r.expose_header, r.id) for r in cfg]


def preflight(endpoint, bucket, key, origin, method, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", endpoint.server.port, timeout=10)
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        request_headers["Access-Control-Request-Headers"] = headers
    conn.request("OPTIONS", f"/{bucket}/{key}", headers=request_headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def test_seed_cors_flow(endpoint):
    c = endpoint.connect()
    c.create_bucket("mybucket-cors")

    # To create a CORS configuration and associate it with a bucket:
    cors_cfg = CORSConfiguration()
    cors_cfg.add_rule(['PUT', 'POST', 'DELETE'], 'https://www.example.com', allowed_header='*', max_age_seconds=3000,
                      expose_header='x-amz-server-side-encryption')
    cors_cfg.add_rule('GET', '*')

    bucket = c.lookup('mybucket-cors')
    assert bucket.set_cors(cors_cfg) is True

    # To retrieve the CORS configuration associated with a bucket:
    got = bucket.get_cors()
    assert rules_of(got) == [
        (['PUT', 'POST', 'DELETE'], ['https://www.example.com'], ['*'], 3000, ['x-amz-server-side-encryption'], None),
        (['GET'], ['*'], [], None, [], None),
    ]

    # The rules apply: the first one answers any requested header from www.example.com, the second GETs from anywhere.
    status, headers, _ = preflight(endpoint, "mybucket-cors", "photo.jpg", "https://www.example.com", "PUT",
                                   "content-type, x-amz-meta-color")
    assert status == 200
    assert headers["access-control-allow-origin"] == "https://www.example.com"
    assert headers["access-control-allow-methods"] == "PUT, POST, DELETE"
    assert headers["access-control-allow-headers"] == "content-type, x-amz-meta-color"
    assert headers["access-control-max-age"] == "3000"
    assert headers["access-control-expose-headers"] == "x-amz-server-side-encryption"
    status, headers, _ = preflight(endpoint, "mybucket-cors", "photo.jpg", "https://elsewhere.example", "GET")
    assert status == 200 and headers["access-control-allow-origin"] == "*"
    status, _, body = preflight(endpoint, "mybucket-cors", "photo.jpg", "https://elsewhere.example", "PUT")
    assert status == 403 and b"<Code>AccessForbidden</Code>" in body

    # And, finally, to delete all CORS configurations from a bucket:
    assert bucket.delete_cors() is True
    with pytest.raises(S3ResponseError) as missing:
        bucket.get_cors()
    assert missing.value.status == 404 and missing.value.error_code == "NoSuchCORSConfiguration"
    status, _, body = preflight(endpoint, "mybucket-cors", "photo.jpg", "https://www.example.com", "PUT")
    assert status == 403 and b"CORS is not enabled for this bucket." in body
    c.delete_bucket("mybucket-cors")


def test_cors_is_the_owners_alone(endpoint):
    endpoint.server.create_account(OTHER["id"], OTHER["name"], OTHER["email"], OTHER["ak"], OTHER["sk"])
    owner = endpoint.connect()
    bucket = owner.create_bucket("owned-cors")
    bucket.set_acl("public-read-write")
    cfg = CORSConfiguration()
    cfg.add_rule('GET', '*', id='everyone-reads')
    bucket.set_cors(cfg)

    stranger = endpoint.connect(OTHER["ak"], OTHER["sk"]).get_bucket("owned-cors", validate=False)
    for attempt in (stranger.get_cors, lambda: stranger.set_cors(cfg), stranger.delete_cors):
        with pytest.raises(S3ResponseError) as denied:
            attempt()
        assert denied.value.status == 403 and denied.value.error_code == "AccessDenied"
    assert [r.id for r in bucket.get_cors()] == ["everyone-reads"]
    bucket.delete_cors()
    owner.delete_bucket("owned-cors")
