"""The compute engines: Trino (Athena) and Spark + JupyterLab (Glue jobs, EMR), started once the
catalogs are healthy.

May import from `components.platform`, `components.storage` and `components.catalogs`.
"""
