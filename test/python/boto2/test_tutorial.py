"""The seed tutorial (shared/seeds/002_cd7974aa9efbee14.txt) walked in order with boto 2.49,
except CORS, lifecycle and restore: two accounts, the second owning `mybucket`."""
import os

import pytest
from boto.exception import S3CreateError, S3ResponseError
from boto.s3.connection import Location, OrdinaryCallingFormat, S3Connection
from boto.s3.key import Key

OTHER = {"id": "b" * 64, "name": "other", "email": "other@example.com", "ak": "CAIRNOTHERKEY0000001", "sk": "other-secret-key-000000000000000000000000"}


def connect(server, access_key, secret_key):
    return S3Connection(access_key, secret_key, host="127.0.0.1", port=server.port, is_secure=False,
                        calling_format=OrdinaryCallingFormat())


def test_tutorial_in_order(start_server, root_keys, tmp_path):
    server = start_server()
    server.create_account(OTHER["id"], OTHER["name"], OTHER["email"], OTHER["ak"], OTHER["sk"])
    conn = connect(server, *root_keys)
    other = connect(server, OTHER["ak"], OTHER["sk"])
    other.create_bucket("mybucket")

    # Creating a Bucket: the name is taken by another account -> 409 Conflict.
    with pytest.raises(S3CreateError) as taken:
        conn.create_bucket("mybucket")
    assert taken.value.status == 409 and taken.value.reason == "Conflict"
    bucket = conn.create_bucket("cairn-tutorial")
    assert conn.create_bucket("cairn-tutorial").name == "cairn-tutorial"  # an existing own bucket is returned

    # Creating a Bucket In Another Location.
    eu = conn.create_bucket("cairn-tutorial-eu", location=Location.EU)
    assert eu.get_location() == "EU"

    # Storing Data.
    k = Key(bucket)
    k.key = "foobar"
    k.set_contents_from_string("This is a test of S3")
    c = connect(server, *root_keys)
    b = c.get_bucket("cairn-tutorial")
    k = Key(b)
    k.key = "foobar"
    assert k.get_contents_as_string() == b"This is a test of S3"

    foo = tmp_path / "foo.jpg"
    foo.write_bytes(os.urandom(70_000))
    k = Key(b)
    k.key = "myfile"
    k.set_contents_from_filename(str(foo))
    k.get_contents_to_filename(str(tmp_path / "bar.jpg"))
    assert (tmp_path / "bar.jpg").read_bytes() == foo.read_bytes()
    assert b.get_key("myfile").content_type == "image/jpeg"  # boto guessed it from the name

    assert b.get_key("mykey") is None
    assert b.get_key("mykey", validate=False).name == "mykey"  # no request made

    # Accessing A Bucket.
    assert sorted(key.name for key in c.get_bucket("cairn-tutorial").list()) == ["foobar", "myfile"]
    assert c.get_bucket("i-dont-exist-at-all", validate=False).name == "i-dont-exist-at-all"
    with pytest.raises(S3ResponseError) as missing:
        c.get_bucket("i-dont-exist-at-all")
    assert missing.value.status == 404
    assert c.lookup("i-dont-exist-at-all") is None

    # Listing All Available Buckets: only this account's.
    rs = c.get_all_buckets()
    assert sorted(x.name for x in rs) == ["cairn-tutorial", "cairn-tutorial-eu"]

    # ACLs: canned on the bucket, on a key through the bucket, and on the key.
    b.set_acl("public-read")
    b.set_acl("public-read", "foobar")
    k = b.get_key("myfile")
    k.set_acl("public-read")
    acp = b.get_acl()
    grants = [(g.permission, g.display_name, g.email_address, g.id, getattr(g, "uri", None)) for g in acp.acl.grants]
    assert ("FULL_CONTROL", "root", None, acp.owner.id, None) in grants
    assert ("READ", None, None, None, "http://acs.amazonaws.com/groups/global/AllUsers") in grants
    anonymous = S3Connection(anon=True, host="127.0.0.1", port=server.port, is_secure=False, calling_format=OrdinaryCallingFormat())
    assert anonymous.get_bucket("cairn-tutorial", validate=False).get_key("foobar").get_contents_as_string() == b"This is a test of S3"

    # add_email_grant / add_user_grant: the other account may then read the key.
    k = Key(b)
    k.key = "mykeytoshare"
    k.set_contents_from_string("shared")
    key = b.lookup("mykeytoshare")
    other_key = Key(other.get_bucket("cairn-tutorial", validate=False), "mykeytoshare")
    with pytest.raises(S3ResponseError) as denied:
        other_key.get_contents_as_string()
    assert denied.value.status == 403
    key.add_email_grant("READ", OTHER["email"])
    # A fresh Key: boto 2 keeps the failed response's state on the one that was refused.
    assert Key(other.get_bucket("cairn-tutorial", validate=False), "mykeytoshare").get_contents_as_string() == b"shared"
    key.add_user_grant("READ_ACP", OTHER["id"])
    shown = [(g.permission, g.id, g.display_name) for g in key.get_acl().acl.grants]
    assert ("READ", OTHER["id"], OTHER["name"]) in shown  # the e-mail grant resolved to the account
    assert ("READ_ACP", OTHER["id"], OTHER["name"]) in shown

    # User metadata.
    (tmp_path / "foo.txt").write_text("metadata carrier")
    k = Key(b)
    k.key = "has_metadata"
    k.set_metadata("meta1", "This is the first metadata value")
    k.set_metadata("meta2", "This is the second metadata value")
    k.set_contents_from_filename(str(tmp_path / "foo.txt"))
    k = b.get_key("has_metadata")
    assert k.get_metadata("meta1") == "This is the first metadata value"
    assert k.get_metadata("meta2") == "This is the second metadata value"

    # Deleting A Bucket: refused while full; emptied key by key, then deleted.
    with pytest.raises(S3ResponseError) as full:
        c.delete_bucket("cairn-tutorial")
    assert full.value.status == 409 and full.value.error_code == "BucketNotEmpty"
    full_bucket = c.get_bucket("cairn-tutorial")
    for key in full_bucket.list():
        key.delete()
    c.delete_bucket("cairn-tutorial")
    assert c.lookup("cairn-tutorial") is None
