"""Serve the console (Daphne) and run the task worker in one process; one Ctrl-C stops both.

The worker runs in a thread of the server's process on purpose: in the embedded default the
channel layer is in-memory, so events published by the worker (delivery status) must come from
the same process to reach the consoles. Scaled deployments run `serve --no-worker` several times
plus `manage.py db_worker` processes, with REDIS_URL set, or `serve --http-workers N`: N server
processes behind one port (helpdesk/pool.py)."""

import argparse
import logging

from django.core.management.base import BaseCommand

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Serve the helpdesk (HTTP + websockets) with Daphne, plus a background task worker."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-worker", action="store_true", help="Do not run the task worker here.")
        parser.add_argument("--worker-interval", type=float, default=0.5)
        parser.add_argument("--no-static", action="store_true",
                            help="Do not serve /static/ (a proxy serves collectstatic's STATIC_ROOT).")
        parser.add_argument("--http-workers", type=int, default=1,
                            help="Server processes sharing the port (default 1). The first runs the task "
                                 "worker; set REDIS_URL so that every process hears every change at once.")
        # A member of a --http-workers pool: serve the listening socket the parent passed down.
        parser.add_argument("--fd", type=int, default=None, help=argparse.SUPPRESS)
        parser.add_argument("--pool-member", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args, host, port, no_worker, worker_interval, no_static, http_workers, fd, pool_member,
               **options):
        if http_workers > 1 and fd is None:
            return self._pool(host, port, http_workers, no_worker, worker_interval, no_static)
        _limit_malloc_arenas()
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

        from helpdesk.asgi import application

        worker = None if no_worker or pool_member else self._worker(worker_interval)
        if not pool_member:
            self._schedule_retention()
        server = Server(
            application=application if no_static else ASGIStaticFilesHandler(application),
            endpoints=build_endpoint_description_strings(file_descriptor=fd) if fd is not None
            else build_endpoint_description_strings(host=host, port=port),
            ready_callable=lambda: self._started(host, port, worker, runners=not pool_member),
            signal_handlers=True,
        )
        self._stops = []
        try:
            server.run()  # returns after SIGINT/SIGTERM
        finally:
            for stop in self._stops:
                stop()
            if worker is not None:
                worker.stop()
                self.stdout.write("Stopping the task worker...")

    def _pool(self, host, port, workers, no_worker, worker_interval, no_static):
        from django.conf import settings

        from helpdesk import pool

        if not settings.REDIS_URL:
            self.stdout.write(self.style.WARNING(
                f"{workers} processes on the in-memory channel layer: a change made in one process reaches "
                f"consoles on the others when the event log is next read "
                f"(HELPDESK_EVENT_POLL_SECONDS={settings.HELPDESK_EVENT_POLL_SECONDS:g}); set REDIS_URL "
                f"for instant updates everywhere."))
        member_args = ["--worker-interval", str(worker_interval), *(["--no-worker"] if no_worker else []),
                       *(["--no-static"] if no_static else [])]
        pool.run(host=host, port=port, workers=workers, member_args=member_args, say=self.stdout.write)

    def _schedule_retention(self):
        # The daily retention task re-enqueues itself; this (re)starts the chain. Whatever fails
        # here is logged: retention must never keep the helpdesk from serving.
        try:
            from privacy.retention import ensure_scheduled

            ensure_scheduled()
        except Exception:  # noqa: BLE001
            log.exception("could not schedule the daily retention task")

    def _worker(self, interval):
        from django.utils.crypto import get_random_string

        from helpdesk.worker import ResilientWorker

        # Resilient: a locked or lost database makes it log, back off and go on, never stop.
        return ResilientWorker(queue_names=["*"], interval=interval, batch=False, backend_name="default",
                               startup_delay=False, max_tasks=None, worker_id=f"serve-{get_random_string(8)}",
                               excluded_queue_names=[])

    def _started(self, host, port, worker, runners=True):
        from daphne.server import twisted_loop

        from tickets import doorbell

        doorbell.use_event_loop(twisted_loop)
        if worker is not None:
            # Run the worker through sync_to_async from the server's loop: publishes from its
            # thread then reach the in-memory channel layer on that loop.
            from asgiref.sync import sync_to_async

            twisted_loop.create_task(sync_to_async(worker.run, thread_sensitive=False)())
        self._start_ingest_worker(twisted_loop, beside_task_worker=worker is not None, pool_member=not runners)
        # Other long-running parts: HELPDESK_SERVE_RUNNERS and _PROCESS_RUNNERS, each started
        # here and returning its stop function.
        from django.conf import settings
        from django.utils.module_loading import import_string

        # Runners that serve this process's own sockets (the notification relay) run in every
        # process of a pool; the rest (the mailbox runner) once per pool, in the first process.
        self._stops += [import_string(path)() for path in getattr(settings, "HELPDESK_SERVE_PROCESS_RUNNERS", [])]
        if runners:
            self._stops += [import_string(path)() for path in getattr(settings, "HELPDESK_SERVE_RUNNERS", [])]
        _freeze_start_up_objects()
        self.stdout.write(self.style.SUCCESS(
            f"Helpdesk serving on http://{host}:{port}/ " + ("with a task worker" if worker else "(no worker)")
        ))


    def _start_ingest_worker(self, loop, beside_task_worker: bool, pool_member: bool) -> None:
        """HELPDESK_WEBHOOK_INGEST=worker: the process that runs the task worker also writes the
        queued webhooks (the one-command default; in a --http-workers pool, the first process);
        scaled deployments run `manage.py ingest_worker` processes beside `serve --no-worker`
        (tickets/ingest_worker.py)."""
        from tickets import ingest_worker

        if not ingest_worker.enabled() or pool_member:  # the pool's first process writes or says
            return
        if not beside_task_worker:
            self.stdout.write("Webhooks are answered once stored (HELPDESK_WEBHOOK_INGEST=worker): run "
                              "`manage.py ingest_worker` to write them.")
            return
        from asgiref.sync import sync_to_async

        writer = ingest_worker.IngestWorker(name="serve's ingest worker")
        loop.create_task(sync_to_async(writer.run, thread_sensitive=False)())  # publishes reach this loop
        self._stops.append(writer.stop)


def _freeze_start_up_objects() -> None:
    """Move what start-up loaded (modules, URL patterns, models, templates: most of the heap's
    objects) out of the cycle collector's reach. A full collection otherwise walks all of them
    with every other thread stopped: 150-1,100 ms pauses with 1,000 chat visitors connected
    on a loaded machine, the whole p99 of a visitor's round trip (bench/livechat_load.py). They
    live as long as the process anyway."""
    import gc

    gc.collect()
    gc.freeze()


def _limit_malloc_arenas() -> None:
    """Cap glibc's malloc arenas (HELPDESK_MALLOC_ARENAS, default 2; 0 leaves glibc's 8 per
    core). Every thread that allocates (Daphne's sync-view thread, Channels' pool, the worker)
    gets an arena of its own, and freed memory stays in it: a loaded server's heap grew by tens
    of MB and never gave it back. The same as MALLOC_ARENA_MAX, set before the threads start."""
    import ctypes
    import ctypes.util
    import os

    arenas = int(os.environ.get("HELPDESK_MALLOC_ARENAS", "2"))
    if arenas <= 0:
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass  # not glibc (musl, macOS): nothing to cap
