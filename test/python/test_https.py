"""boto3 over HTTPS: a throwaway CA made with the openssl CLI, `verify=` that CA."""
import os
import re
import shutil
import subprocess
import tempfile

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import ROOT_ACCESS_KEY, ROOT_SECRET_KEY, Server


def openssl(folder, *args):
    subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)


@pytest.fixture
def certs():
    folder = tempfile.mkdtemp(prefix="cairn-tls-py-")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl(folder, "req", "-x509", *ec, "-days", "2", "-keyout", "ca.key", "-out", "ca.pem",
            "-subj", "/CN=Cairn boto3 test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    with open(os.path.join(folder, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    openssl(folder, "req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    openssl(folder, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "1",
            "-days", "2", "-out", "server.pem", "-extfile", "server.ext")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def https_server(certs):
    server = Server(args=["--tls-cert", os.path.join(certs, "server.pem"), "--tls-key", os.path.join(certs, "server.key"),
                          "--tls-port", "0"])
    try:
        # The HTTPS endpoint is printed on the line after the HTTP one.
        match = re.search(r"listening on (https://\S+)", server.proc.stdout.readline())
        assert match, "the server printed no HTTPS endpoint"
        server.https_endpoint = match.group(1)
        yield server
    finally:
        server.stop()


def client(endpoint, verify):
    return boto3.client("s3", endpoint_url=endpoint, verify=verify, region_name="us-east-1",
                        aws_access_key_id=ROOT_ACCESS_KEY, aws_secret_access_key=ROOT_SECRET_KEY,
                        config=botocore.config.Config(retries={"max_attempts": 1}))


def test_boto3_round_trip_over_https_with_the_test_ca(https_server, certs):
    s3 = client(https_server.https_endpoint, os.path.join(certs, "ca.pem"))
    s3.create_bucket(Bucket="tls-py")
    body = os.urandom(300 * 1024)
    s3.put_object(Bucket="tls-py", Key="a/b.bin", Body=body)
    assert s3.get_object(Bucket="tls-py", Key="a/b.bin")["Body"].read() == body
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="tls-py")["Contents"]] == ["a/b.bin"]
    # A managed (multipart) transfer over the same TLS endpoint.
    path = os.path.join(certs, "big.bin")
    with open(path, "wb") as f:
        f.write(os.urandom(9 * 1024 * 1024))
    s3.upload_file(path, "tls-py", "big.bin",
                   Config=boto3.s3.transfer.TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024))
    assert s3.head_object(Bucket="tls-py", Key="big.bin")["ContentLength"] == 9 * 1024 * 1024
    s3.delete_object(Bucket="tls-py", Key="a/b.bin")
    s3.delete_object(Bucket="tls-py", Key="big.bin")
    s3.delete_bucket(Bucket="tls-py")


def test_boto3_refuses_a_server_outside_its_trusted_cas(https_server):
    # The default trust store does not hold the throwaway CA.
    s3 = client(https_server.https_endpoint, True)
    with pytest.raises(botocore.exceptions.SSLError):
        s3.list_buckets()
