"""The storage plane (MinIO, PostgreSQL with retained data volumes) and the data layer on it:
buckets, per-service MinIO users and policies, per-service roles and databases, and what a
service backed by its own database and S3 user is given (`backing`).

May import from `components.platform` only.
"""
