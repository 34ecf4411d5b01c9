"""The data layer: buckets, per-service MinIO users and PostgreSQL roles/databases, and the reference data.

Everything here is driven by `BUCKETS` and `SERVICES`: a service with grants gets its own
MinIO user and a policy that names only its buckets/prefixes; a service with a database
gets a login role that owns it. The providers talk to the storage plane's containers and
are gated on them being healthy.
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import pulumi
import pulumi_minio as minio
import pulumi_postgresql as postgresql

from components.platform.config import LakehouseConfig
from components.platform.credentials import generated_password
from components.platform.endpoints import Endpoint, resolve
from components.storage.minio import Minio
from components.storage.postgres import Postgres
from components.platform.services import BUCKETS, SERVICES, Bucket, Grant, Service
from components.platform.workload import REFERENCE_BUCKET, reference_objects

_READ = ["s3:GetObject"]
_WRITE = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]


def bucket_policy(grants: Sequence[Grant]) -> dict[str, Any]:
    """An S3 policy allowing exactly the given buckets/prefixes, read-only where `write` is off.

    A prefix grant narrows listing to the prefix and its own "directory" key (`hive` for `hive/`),
    which S3A clients probe before the first object exists below it; `GetBucketLocation` carries no
    prefix, so it is granted apart from that condition (a condition on it would deny it)."""
    statements: list[dict[str, Any]] = []
    for grant in grants:
        bucket = [f"arn:aws:s3:::{grant.bucket}"]
        objects = [f"arn:aws:s3:::{grant.bucket}/{grant.prefix}*"]
        if grant.prefix:
            directory = grant.prefix.rstrip("/")
            statements.append({"Effect": "Allow", "Action": ["s3:GetBucketLocation"], "Resource": bucket})
            statements.append({"Effect": "Allow", "Action": ["s3:ListBucket", "s3:ListBucketMultipartUploads"],
                               "Resource": bucket,
                               "Condition": {"StringLike": {"s3:prefix": [f"{grant.prefix}*", directory]}}})
            objects.append(f"arn:aws:s3:::{grant.bucket}/{directory}")
        else:
            statements.append({"Effect": "Allow", "Resource": bucket,
                               "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]})
        statements.append({"Effect": "Allow", "Action": _READ + (_WRITE if grant.write else []), "Resource": objects})
    return {"Version": "2012-10-17", "Statement": statements}


@dataclass(frozen=True)
class S3Credentials:
    access_key: str
    secret_key: pulumi.Output[str]


@dataclass(frozen=True)
class DatabaseCredentials:
    database: str
    user: str
    password: pulumi.Output[str]


def lifecycle_rules(bucket: Bucket, config: LakehouseConfig) -> list[minio.IlmPolicyRuleArgs]:
    """A bucket's lifecycle: objects of an expiring bucket expire; in a versioned bucket, replaced and
    deleted versions expire and delete markers left with no version behind them go. (Every rule is
    enabled: the provider computes `status`, and rejects a plan that sets it.)"""
    rules = []
    if bucket.expires_after:
        rules.append(minio.IlmPolicyRuleArgs(id=f"expire-{bucket.name}",
                                             expiration=f"{getattr(config, bucket.expires_after)}d"))
    if bucket.versioned:
        rules.append(minio.IlmPolicyRuleArgs(id=f"expire-noncurrent-{bucket.name}", expiration="DeleteMarker",
                                             noncurrent_version_expiration_days=config.noncurrent_expiration_days))
    return rules


@dataclass(frozen=True)
class ServiceAccess:
    """What one service was given: its own MinIO user and/or its own database."""

    s3: Optional[S3Credentials]
    database: Optional[DatabaseCredentials]


@dataclass(frozen=True)
class DataLayerArgs:
    config: LakehouseConfig
    minio: Minio
    postgres: Postgres


class DataLayer(pulumi.ComponentResource):
    def __init__(self, name: str, args: DataLayerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:data:DataLayer", name, None, opts)
        self._config = args.config
        self._retain = not args.config.purge_on_destroy
        minio_endpoint = resolve(args.config, "minio", "api")
        postgres_endpoint = resolve(args.config, "postgres", "postgres")
        self.minio_provider = minio.Provider(
            f"{name}-minio",
            minio_server=minio_endpoint.hostport,
            minio_user=args.minio.root_user,
            minio_password=args.minio.root_password,
            minio_region=args.config.region,
            minio_ssl=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.minio.container]),
        )
        self.postgres_provider = postgresql.Provider(
            f"{name}-postgres",
            host=postgres_endpoint.host,
            port=postgres_endpoint.port,
            username=args.postgres.superuser,
            password=args.postgres.password,
            database="postgres",
            sslmode="disable",
            superuser=True,
            connect_timeout=15,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.postgres.container]),
        )
        self.buckets = {bucket.name: self._bucket(f"{name}-{bucket.name}", bucket) for bucket in BUCKETS}
        self.access: dict[str, ServiceAccess] = {
            service.name: ServiceAccess(
                s3=self._minio_user(f"{name}-{service.name}", service) if service.grants else None,
                database=self._database(f"{name}-{service.name}", service) if service.database else None,
            )
            for service in SERVICES.values()
            if (service.grants or service.database) and args.config.deploys(service)
        }
        # The demo's reference data, owned by the stack: `pulumi up` uploads a changed file again, and
        # `pulumi up --refresh` puts back an object deleted in MinIO.
        self.reference_objects = {
            key: minio.S3Object(f"{name}-reference-{key.replace('/', '-').replace('_', '-').replace('.', '-')}",
                                bucket_name=self.buckets[REFERENCE_BUCKET].bucket, object_name=key, content=text,
                                content_type=mimetypes.guess_type(key)[0], opts=self._on_minio())
            for key, text in (reference_objects().items() if args.config.demo.enabled else ())
        }
        self.connection_details = self._connection_details(minio_endpoint, postgres_endpoint)
        self.register_outputs({"buckets": {b: r.bucket for b, r in self.buckets.items()},
                               "services": self.connection_details})

    def _on_minio(self, **extra: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self.minio_provider, **extra)

    def _bucket(self, name: str, spec: Bucket) -> minio.S3Bucket:
        bucket = minio.S3Bucket(name, bucket=spec.name, force_destroy=not self._retain,
                                opts=self._on_minio(retain_on_delete=self._retain))
        if spec.versioned:
            minio.S3BucketVersioning(f"{name}-versioning", bucket=bucket.bucket,
                                     versioning_configuration=minio.S3BucketVersioningVersioningConfigurationArgs(
                                         status="Enabled"),
                                     opts=self._on_minio())
        rules = lifecycle_rules(spec, self._config)
        if rules:
            minio.IlmPolicy(f"{name}-expiration", bucket=bucket.bucket, rules=rules, opts=self._on_minio())
        return bucket

    def _minio_user(self, name: str, service: Service) -> S3Credentials:
        secret = generated_password(f"{name}-s3-secret", self, length=40).result
        user = minio.IamUser(f"{name}-s3-user", name=service.ident, secret=secret, opts=self._on_minio())
        policy = minio.IamPolicy(f"{name}-s3-policy", name=f"{service.ident}-access",
                                 policy=json.dumps(bucket_policy(service.grants), indent=2),
                                 opts=self._on_minio(depends_on=[self.buckets[g.bucket] for g in service.grants]))
        minio.IamUserPolicyAttachment(f"{name}-s3-policy-attachment", user_name=user.name, policy_name=policy.name,
                                      opts=self._on_minio())
        return S3Credentials(access_key=service.ident, secret_key=secret)

    def _database(self, name: str, service: Service) -> DatabaseCredentials:
        on_postgres = pulumi.ResourceOptions(parent=self, provider=self.postgres_provider,
                                             retain_on_delete=self._retain)
        password = generated_password(f"{name}-db-password", self).result
        role = postgresql.Role(f"{name}-db-role", name=service.ident, login=True, password=password,
                               opts=on_postgres)
        postgresql.Database(f"{name}-db", name=service.database, owner=role.name, opts=on_postgres)
        for extra in service.extra_databases:
            postgresql.Database(f"{name}-{extra.replace('_', '-')}-db", name=extra, owner=role.name, opts=on_postgres)
        return DatabaseCredentials(database=service.database, user=service.ident, password=password)

    def _connection_details(self, minio: Endpoint, postgres: Endpoint) -> pulumi.Output[dict[str, Any]]:
        """Per-service connection details as seen from the Pulumi machine, as one secret."""
        details: dict[str, Any] = {}
        for service, access in self.access.items():
            entry: dict[str, Any] = {}
            if access.s3:
                entry["s3"] = {"endpoint": minio.url(), "accessKey": access.s3.access_key,
                               "secretKey": access.s3.secret_key, "region": self._config.region}
            if access.database:
                entry["postgres"] = {"host": postgres.host, "port": postgres.port,
                                     "database": access.database.database, "user": access.database.user,
                                     "password": access.database.password}
            details[service] = entry
        return pulumi.Output.secret(details)
