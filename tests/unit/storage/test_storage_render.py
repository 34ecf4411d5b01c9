"""The storage plane's renderers as exact values: MinIO and PostgreSQL settings, bucket policies."""

from __future__ import annotations

import json

import pytest

from components.platform.services import Grant
from components.storage.data import bucket_policy
from components.storage.minio import minio_command, minio_env
from components.storage.postgres import data_path, postgres_env


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


def test_bucket_policy_for_a_prefix_and_a_read_only_bucket():
    policy = bucket_policy([Grant("warehouse", "hive/"), Grant("landing", write=False)])
    assert json.loads(json.dumps(policy)) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetBucketLocation"], "Resource": ["arn:aws:s3:::warehouse"]},
            {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:ListBucketMultipartUploads"],
             "Resource": ["arn:aws:s3:::warehouse"],
             "Condition": {"StringLike": {"s3:prefix": ["hive/*", "hive"]}}},
            {"Effect": "Allow",
             "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
                        "s3:ListMultipartUploadParts"],
             "Resource": ["arn:aws:s3:::warehouse/hive/*", "arn:aws:s3:::warehouse/hive"]},
            {"Effect": "Allow", "Resource": ["arn:aws:s3:::landing"],
             "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]},
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::landing/*"]},
        ],
    }



def test_a_prefix_condition_never_covers_get_bucket_location():
    for statement in bucket_policy([Grant("warehouse", "hive/")])["Statement"]:
        if "s3:GetBucketLocation" in statement["Action"]:
            assert "Condition" not in statement, "GetBucketLocation has no prefix: a prefix condition denies it"
