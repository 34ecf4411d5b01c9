"""The demo workload: NYC taxi trips from an operational database through the lakehouse to analysts.

    source      the operational PostgreSQL schema (sql/source_schema.sql), the TLC zone lookup, the generator
    extract     change log after the watermark -> Parquet + manifest in s3://landing/taxi/<run>/
    transforms  Spark (Connect) DataFrame functions, Iceberg DDL and MERGE text, the table writer
    checks      data-quality SQL for Trino and the per-day reconciliation against the source
    pipeline    each DAG step, its clients built from Airflow connections
    dags/       the Airflow DAG (taxi_pipeline); notebooks/ the JupyterLab notebooks

The stack deploys this package (into Airflow's DAGs folder, the notebooks into JupyterLab); the Pulumi
program never imports it.
"""
