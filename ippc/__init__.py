"""IPPC project package: settings, URLs, Celery app and WSGI/ASGI entry points."""

from ippc.celery import app as celery_app

__all__ = ("celery_app",)
