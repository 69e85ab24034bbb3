"""Non-ASCII user metadata through boto3, as S3 documents it: a value sent as UTF-8
bytes or as RFC 2047 encoded-words is stored as text, and answered as one RFC 2047
encoded-word whenever it holds anything but printable US-ASCII."""
import email.header

import boto3
import pytest
from botocore.config import Config

from conftest import ROOT_ACCESS_KEY, ROOT_SECRET_KEY


@pytest.fixture
def s3(server):
    client = boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=ROOT_ACCESS_KEY,
                          aws_secret_access_key=ROOT_SECRET_KEY, region_name="us-east-1",
                          config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    client.create_bucket(Bucket="meta")
    return client


def put_with_raw_header(s3, key, name, value):
    """PutObject with a header botocore's Metadata parameter would refuse (non-ASCII): set on the wire, UTF-8 encoded."""
    def set_header(params, **_):
        params["headers"][name] = value
    s3.meta.events.register_first("before-call.s3.PutObject", set_header, unique_id="raw-meta")
    try:
        s3.put_object(Bucket="meta", Key=key, Body=b"bytes")
    finally:
        s3.meta.events.unregister("before-call.s3.PutObject", unique_id="raw-meta")


def decoded(value):
    return str(email.header.make_header(email.header.decode_header(value)))


@pytest.mark.parametrize("text", ["Hello World\u00e9", "\u4e2d\u6587 and \U0001f600"])
def test_utf8_value_is_answered_as_an_encoded_word(s3, text):
    put_with_raw_header(s3, "k", "x-amz-meta-meta1", text)
    for response in (s3.get_object(Bucket="meta", Key="k"), s3.head_object(Bucket="meta", Key="k")):
        raw = response["ResponseMetadata"]["HTTPHeaders"]["x-amz-meta-meta1"]
        assert raw.startswith("=?UTF-8?B?") and raw.endswith("?=") and raw.isascii(), raw
        assert decoded(raw) == text
    # A copy keeps the stored text, answered the same way.
    s3.copy_object(Bucket="meta", Key="copy", CopySource={"Bucket": "meta", "Key": "k"})
    assert decoded(s3.head_object(Bucket="meta", Key="copy")["Metadata"]["meta1"]) == text


def test_encoded_words_in_a_request_are_decoded_before_storing(s3):
    # Q and B words, adjacent ones joined without the space between them (RFC 2047 section 6.2).
    s3.put_object(Bucket="meta", Key="q", Body=b"x", Metadata={
        "cafe": "=?UTF-8?Q?caf=C3=A9_noir?=",
        "joined": "=?utf-8?b?w6k=?= =?UTF-8?Q?t=C3=A9?=",
        "plain-word": "=?UTF-8?B?cGxhaW4=?=",
        "unknown-charset": "=?KOI8-R?B?9ME=?=",
    })
    meta = s3.head_object(Bucket="meta", Key="q")["Metadata"]
    assert decoded(meta["cafe"]) == "caf\u00e9 noir"
    assert decoded(meta["joined"]) == "\u00e9t\u00e9"
    # Decoded to ASCII, the value is answered as it is; a charset Cairn does not read stays as sent.
    assert meta["plain-word"] == "plain"
    assert meta["unknown-charset"] == "=?KOI8-R?B?9ME=?="


def test_ascii_values_are_answered_unchanged(s3):
    s3.put_object(Bucket="meta", Key="a", Body=b"x", Metadata={"color": "blue", "spaced": "two words, one comma"})
    assert s3.get_object(Bucket="meta", Key="a")["Metadata"] == {"color": "blue", "spaced": "two words, one comma"}


def test_the_2_kb_limit_counts_the_stored_utf8(s3):
    # 1,030 two-byte characters are 2,060 bytes, over S3's 2 KB of user metadata; 1,000 (2,000 bytes) fit.
    with pytest.raises(s3.exceptions.ClientError) as refused:
        put_with_raw_header(s3, "big", "x-amz-meta-m", "\u00e9" * 1030)
    assert refused.value.response["Error"]["Code"] == "MetadataTooLarge"
    put_with_raw_header(s3, "fits", "x-amz-meta-m", "\u00e9" * 1000)
    assert decoded(s3.head_object(Bucket="meta", Key="fits")["Metadata"]["m"]) == "\u00e9" * 1000
