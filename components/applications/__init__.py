"""The applications: Airflow (MWAA), MLflow (SageMaker experiments) and Superset (QuickSight),
wired only through the lower layers' outputs and the endpoint resolver.

May import from every other layer except `components.vms`.
"""
