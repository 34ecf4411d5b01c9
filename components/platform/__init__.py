"""The platform's mechanics: typed config, the service table, endpoint resolution, docker hosts,
the one way to run a container or a job, jars, generated credentials, and file renderers.

Imports nothing from the other layers: every other package builds on this one.
"""
