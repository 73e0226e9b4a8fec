"""Celery tasks of the suggestions app (autodiscovered by config.celery_app)."""
