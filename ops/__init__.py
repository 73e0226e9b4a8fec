"""Operations — health, backup, restore.

A room of its own because none of it is about suggestions: what a system administrator and the
container orchestrator need to run the product (the /healthz probe, the Content-Security-Policy
header, `manage.py backup` and `restore`). Nothing here imports the domain apps.
"""
