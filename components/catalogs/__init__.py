"""The catalogs (Glue Data Catalog): the Iceberg REST catalog and the Hive Metastore, each with
its own database and S3 user.

May import from `components.platform` and `components.storage`.
"""
