"""The storage plane the applications rely on, as the program declares it: roles, databases, buckets, keys."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from harness import unwrap
from local_container import Loopback

pytestmark = pytest.mark.contract


def test_every_service_role_logs_in_and_owns_its_database(contract_run, postgres):
    owners = {r.inputs["name"]: r.inputs["owner"] for r in contract_run.of_type("postgresql:index/database:Database")}
    roles = {r.inputs["name"]: unwrap(r.inputs["password"]) for r in contract_run.of_type("postgresql:index/role:Role")}
    assert owners and set(owners.values()) <= set(roles)
    for database, owner in owners.items():
        login = postgres.psql("SELECT current_user, pg_get_userbyid(datdba) FROM pg_database "
                              "WHERE datname = current_database()", user=owner, password=roles[owner], database=database)
        assert login.stdout.strip() == f"{owner}|{owner}"
        # PostgreSQL 15+: only the owner of the database may create in `public`, which every migration needs.
        postgres.psql("CREATE TABLE contract_probe (id int); DROP TABLE contract_probe",
                      user=owner, password=roles[owner], database=database)
    wrong = postgres.psql("SELECT 1", user=next(iter(roles)), password="not-the-password", check=False)
    assert wrong.returncode != 0 and "password authentication failed" in wrong.stderr


def test_buckets_exist_and_each_service_key_writes_only_where_its_policy_allows(contract_run, s3):
    assert sorted(b["Name"] for b in s3.client().list_buckets()["Buckets"]) == s3.buckets
    policies = {r.inputs["name"]: json.loads(unwrap(r.inputs["policy"]))
                for r in contract_run.of_type("minio:index/iamPolicy:IamPolicy")}
    attached = {r.inputs["userName"]: r.inputs["policyName"]
                for r in contract_run.of_type("minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment")}
    checked = []
    for service, details in contract_run.outputs["services"].items():
        key = details.get("s3")
        if not key:
            continue
        statements = policies[attached[key["accessKey"]]]["Statement"]
        writes = {res.removeprefix("arn:aws:s3:::") for st in statements if "s3:PutObject" in st["Action"]
                  for res in st["Resource"]}
        client = s3.client(key["accessKey"], key["secretKey"])
        for bucket in s3.buckets:
            if f"{bucket}/*" in writes:  # the whole bucket
                client.put_object(Bucket=bucket, Key=f"contract/{service}", Body=b"x")
                assert client.list_objects_v2(Bucket=bucket, Prefix="contract/")["KeyCount"] >= 1
                client.delete_object(Bucket=bucket, Key=f"contract/{service}")
            elif not any(w.startswith(f"{bucket}/") for w in writes):  # prefix grants: not modelled here
                with pytest.raises(ClientError) as denied:
                    client.put_object(Bucket=bucket, Key=f"contract/{service}", Body=b"x")
                assert denied.value.response["Error"]["Code"] == "AccessDenied"
        wrong = s3.client(key["accessKey"], "not-the-secret")
        with pytest.raises(ClientError):
            wrong.list_objects_v2(Bucket=s3.buckets[0])
        checked.append(service)
    assert {"airflow", "mlflow"} <= set(checked)


def test_addresses_fold_onto_loopback_consistently(stack_runs):
    for run in stack_runs.values():
        loopback = Loopback(run)
        hosts = sorted(h for h in loopback.hosts if h != "0.0.0.0")
        for host in hosts:
            local = "localhost" if host == "localhost" else "127.0.0.1"  # the name stays: Spark Connect needs it
            assert loopback.text(f"http://{host}:9000/x") == f"http://{local}:{loopback.port(9000)}/x"
        assert loopback.text("jdbc:postgresql://lakehouse-postgres:5432/iceberg") == \
            f"jdbc:postgresql://127.0.0.1:{loopback.port(5432)}/iceberg"
        assert loopback.text("mlflow postgres://mlflow:pw@mlflow:5432 trino://superset@superset s3://mlflow/ arn:aws:s3:::mlflow /data/mlflow --port 5000") == \
            f"mlflow postgres://mlflow:pw@127.0.0.1:{loopback.port(5432)} trino://superset@127.0.0.1 s3://mlflow/ arn:aws:s3:::mlflow /data/mlflow --port {loopback.port(5000)}"
        assert json.loads(loopback.value("C", '{"host": "spark://lakehouse-spark", "port": 7077}')) == {
            "host": "spark://127.0.0.1", "port": loopback.port(7077)}
        assert loopback.value("X_PORT", "8974") == str(loopback.port(8974))
