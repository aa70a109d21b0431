"""The Celery application; tasks are discovered in each app's tasks.py."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("carehomes")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.celeryd_init.connect
def _task_statement_timeout(**kwargs):
    """Tasks run long statements on purpose (imports, uplifts, exports): the worker takes the task
    statement timeout, not the web one. Sent by `celery worker` before its pool starts, so every
    pool process inherits it."""
    from core.db import use_task_statement_timeout

    use_task_statement_timeout()


@signals.before_task_publish.connect
def _task_published(**kwargs):
    from .metrics import task_published

    task_published(**kwargs)


@signals.task_prerun.connect
def _task_started(**kwargs):
    from .metrics import task_started

    task_started(**kwargs)


@signals.task_postrun.connect
def _task_finished(**kwargs):
    from .metrics import task_finished

    task_finished(**kwargs)


@signals.setup_logging.connect
def _worker_logging(**kwargs):
    """The worker logs as the web does (settings.LOGGING: JSON lines carrying the request id),
    instead of Celery putting its own format on the root logger."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
