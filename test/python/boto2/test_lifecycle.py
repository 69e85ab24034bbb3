"""The seed tutorial's "Transitioning Objects" and "Restoring Objects from Glacier"
sections (shared/seeds/002_cd7974aa9efbee14.txt) with boto 2.49, as written, against
servers whose lifecycle day is shortened so that the tutorial's days pass in seconds."""
import time

import pytest
from boto.exception import S3ResponseError
from boto.s3.connection import OrdinaryCallingFormat, S3Connection
from boto.s3.key import Key
from boto.s3.lifecycle import Expiration, Lifecycle, Rule, Transitions

# One lifecycle day lasts 0.15 s: 30 days are 4.5 s, 90 days 13.5 s, 120 days 18 s.
FAST_DAY = ("--lifecycle-day-seconds", "0.15", "--lifecycle-interval", "0.1", "--gc-grace", "0")
# One day lasts 2 s and a Standard restore takes two (scaled) days: 4 s; 5 days of restore are 10 s.
RESTORE_DAY = ("--lifecycle-day-seconds", "2", "--lifecycle-interval", "0.1", "--gc-grace", "0",
               "--restore-standard-seconds", "172800")


def connect(server, access_key, secret_key):
    return S3Connection(access_key, secret_key, host="127.0.0.1", port=server.port, is_secure=False,
                        calling_format=OrdinaryCallingFormat())


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def classes(bucket):
    return {key.name: key.storage_class for key in bucket.list()}


def test_transitioning_objects(start_server, root_keys):
    server = start_server(args=FAST_DAY)
    c = connect(server, *root_keys)
    c.create_bucket("s3-lifecycle-boto-demo")
    bucket = c.get_bucket("s3-lifecycle-boto-demo")

    transitions = Transitions()
    transitions.add_transition(days=30, storage_class="STANDARD_IA")
    transitions.add_transition(days=90, storage_class="GLACIER")
    expiration = Expiration(days=120)
    rule = Rule(id="ruleid", prefix="logs/", status="Enabled", expiration=expiration, transition=transitions)
    lifecycle = Lifecycle()
    lifecycle.append(rule)
    assert bucket.configure_lifecycle(lifecycle) is True

    current = bucket.get_lifecycle_config()
    assert current[0].id == "ruleid" and current[0].prefix == "logs/" and current[0].status == "Enabled"
    assert sorted((t.days, t.storage_class) for t in current[0].transition) == [(30, "STANDARD_IA"), (90, "GLACIER")]
    assert current[0].expiration.days == 120

    # testlog2 is 7 s (about 47 days) older than testlog1, so it reaches GLACIER while testlog1 is in STANDARD_IA.
    Key(bucket, "logs/testlog2.log").set_contents_from_string("second log\n")
    time.sleep(7)
    Key(bucket, "logs/testlog1.log").set_contents_from_string("first log\n")
    Key(bucket, "other/kept.txt").set_contents_from_string("outside the rule's prefix")
    assert classes(bucket)["logs/testlog1.log"] == "STANDARD"

    wait_for(lambda: classes(bucket).get("logs/testlog2.log") == "GLACIER", 20, "testlog2 in GLACIER")
    listed = classes(bucket)
    assert listed["logs/testlog1.log"] == "STANDARD_IA"
    assert listed["other/kept.txt"] == "STANDARD"
    assert list(bucket.list(prefix="logs/testlog1.log"))[0].storage_class == "STANDARD_IA"
    assert list(bucket.list(prefix="logs/testlog2.log"))[0].storage_class == "GLACIER"

    # An archived object is not readable until restored.
    with pytest.raises(S3ResponseError) as archived:
        bucket.get_key("logs/testlog2.log").get_contents_as_string()
    assert archived.value.status == 403 and archived.value.error_code == "InvalidObjectState"

    # 120 days: both logs expire; the object outside the prefix stays.
    wait_for(lambda: list(classes(bucket)) == ["other/kept.txt"], 25, "the logs to expire")
    assert bucket.get_key("logs/testlog1.log") is None


def test_restoring_objects_from_glacier(start_server, root_keys, tmp_path):
    server = start_server(args=RESTORE_DAY)
    c = connect(server, *root_keys)
    c.create_bucket("s3-glacier-boto-demo")
    bucket = c.get_bucket("s3-glacier-boto-demo")
    lifecycle = Lifecycle()
    transitions = Transitions()
    transitions.add_transition(days=1, storage_class="GLACIER")
    lifecycle.append(Rule(id="archive", prefix="logs/", status="Enabled", transition=transitions))
    assert bucket.configure_lifecycle(lifecycle) is True
    body = b"log line\n" * 1000
    Key(bucket, "logs/testlog1.log").set_contents_from_string(body)
    wait_for(lambda: classes(bucket)["logs/testlog1.log"] == "GLACIER", 15, "the log in GLACIER")

    key = bucket.get_key("logs/testlog1.log")
    assert key.ongoing_restore is None
    key.restore(days=5)

    key = bucket.get_key("logs/testlog1.log")
    assert key.ongoing_restore is True
    with pytest.raises(S3ResponseError) as again:
        key.restore(days=5)
    assert again.value.status == 409 and again.value.error_code == "RestoreAlreadyInProgress"

    key = wait_for(lambda: (lambda k: k if k.ongoing_restore is False else None)(bucket.get_key("logs/testlog1.log")),
                   15, "the restore to complete")
    assert key.ongoing_restore is False
    assert key.expiry_date is not None and key.expiry_date.endswith(" GMT")
    target = tmp_path / "testlog1.log"
    key.get_contents_to_filename(str(target))
    assert target.read_bytes() == body

    # Five (2-second) days later the restored copy is gone again.
    wait_for(lambda: bucket.get_key("logs/testlog1.log").ongoing_restore is None, 20, "the restored copy to expire")
    with pytest.raises(S3ResponseError) as expired:
        bucket.get_key("logs/testlog1.log").get_contents_as_string()
    assert expired.value.error_code == "InvalidObjectState"
