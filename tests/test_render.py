"""Pure functions that render env, commands, policies and endpoints, tested as exact text."""

from __future__ import annotations

import json

import pytest

from components.config import parse
from components.data import bucket_policy
from components.endpoints import Endpoint, resolve
from components.hosts import ssh_opts
from components.minio import minio_command, minio_env
from components.postgres import data_path, postgres_env
from components.services import Grant


def test_minio_command_and_env():
    assert minio_command() == ["server", "/data", "--console-address", ":9001"]
    assert minio_env("root", "pw", "eu-west-1") == [
        "MINIO_ROOT_USER=root", "MINIO_ROOT_PASSWORD=pw", "MINIO_SITE_REGION=eu-west-1"]


def test_postgres_env():
    assert postgres_env("pw") == ["POSTGRES_USER=postgres", "POSTGRES_PASSWORD=pw", "POSTGRES_DB=postgres"]


@pytest.mark.parametrize("image, path", [
    ("postgres:17.6", "/var/lib/postgresql/data"),
    ("postgres:16.10-bookworm", "/var/lib/postgresql/data"),
    ("postgres:18.1", "/var/lib/postgresql"),
    ("registry.lan:5000/postgres:18", "/var/lib/postgresql"),
])
def test_postgres_data_path_follows_the_major_version(image, path):
    assert data_path(image) == path


def test_ssh_options_become_dash_o_pairs():
    assert ssh_opts(["StrictHostKeyChecking=accept-new", "Port=2222"]) == [
        "-o", "StrictHostKeyChecking=accept-new", "-o", "Port=2222"]
    assert ssh_opts([]) == []


def test_bucket_policy_for_a_prefix_and_a_read_only_bucket():
    policy = bucket_policy([Grant("warehouse", "hive/"), Grant("landing", write=False)])
    assert json.loads(json.dumps(policy)) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
             "Resource": ["arn:aws:s3:::warehouse"],
             "Condition": {"StringLike": {"s3:prefix": ["hive/*", "hive"]}}},
            {"Effect": "Allow",
             "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
                        "s3:ListMultipartUploadParts"],
             "Resource": ["arn:aws:s3:::warehouse/hive/*", "arn:aws:s3:::warehouse/hive"]},
            {"Effect": "Allow", "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
             "Resource": ["arn:aws:s3:::landing"]},
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::landing/*"]},
        ],
    }


def test_endpoints_resolve_by_container_name_on_the_same_host_and_by_address_elsewhere():
    config = parse({
        "storageHost": "nas",
        "computeHosts": ["vm1"],
        "hosts": {"nas": {"address": "192.168.10.20", "ssh": {"user": "me"}},
                  "vm1": {"address": "192.168.10.31", "ssh": {"user": "me"}}},
        "services": {"minio": {"ports": {"api": 19000}}},
    })
    rest = config.services["iceberg-rest"].instances[0]
    trino = config.services["trino"].instances[0]
    assert resolve(config, "minio", "api", rest) == Endpoint("lakehouse-minio", 9000)
    assert resolve(config, "minio", "api", trino) == Endpoint("192.168.10.20", 19000)
    assert resolve(config, "minio", "api").url() == "http://192.168.10.20:19000"
    assert resolve(config, "postgres", "postgres", trino).hostport == "192.168.10.20:5432"
    assert resolve(config, "trino", "http", trino) == Endpoint("192.168.10.31", 8080)


def test_host_network_services_are_reached_by_address_even_on_the_same_host():
    config = parse({"storageHost": "box", "hosts": {"box": {"address": "10.0.0.5", "dockerHost": "unix:///d.sock"}}})
    spark = config.services["spark"].instances[0]
    rest = config.services["iceberg-rest"].instances[0]
    assert resolve(config, "iceberg-rest", "http", spark) == Endpoint("10.0.0.5", 8181)
    assert resolve(config, "minio", "api", rest) == Endpoint("lakehouse-minio", 9000)
    assert resolve(config, "spark", "master", config.services["jupyter"].instances[0]) == Endpoint("10.0.0.5", 7077)
