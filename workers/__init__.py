"""Celery: the app with its beat schedule, and tasks that take ids and call one service each."""
