"""`wms worker`: one RQ worker process that works jobs in-process (no fork per job) inside the app
context, keeps the periodic Starshipit poll scheduled, sweeps the inbox for events whose job was
lost, and rides out Redis going away.

Redis holds only hand-overs (queued jobs, the scheduled poll and retries, the wake flag); the
inbox in the database is the truth. So when Redis goes away, or comes back empty, the worker
waits for it, carries on, and puts back what Redis lost: the poll (app.orders.polling
.ensure_scheduled) and the events whose drain or retry job went with Redis (polling.requeue_stale,
the stale sweep). Nothing needs a human.

Why a SimpleWorker subclass overriding a few narrow methods rather than a work loop of our own:
RQ's loop already does the hard parts right (a blocking dequeue, the job's bookkeeping, warm
shutdown on SIGTERM that lets the current job finish, cold shutdown on a second signal, the
scheduler process), and its dequeue already waits for Redis with capped exponential backoff. What
it gets wrong for us is narrow: a Redis error anywhere else (registering at start, checking for
suspension, the bookkeeping before and after a job, the heartbeat after it, maintenance, the
scheduler process) ends the loop or the process. So each of those methods is wrapped (see
`Worker`), and RQ's own maintenance hook, which the loop calls between jobs and on every idle
round, also does our upkeep at a short cadence. Each override calls RQ's own method and changes
only what happens when Redis is away, so RQ's fixes to its loop still reach us; a copy of the loop
would have to be kept in step with every RQ release by hand. (Private bits touched: the
scheduler's `_process`, as RQ's own maintenance does, and the worker's local state after a lost
job's bookkeeping.) Retries of a dead connection inside one Redis call are redis-py's own.
"""
from __future__ import annotations

import functools
import logging
import signal
import time
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import SimpleWorker, worker_registration
from rq.exceptions import StopRequested
from rq.logutils import setup_loghandlers
from rq.scheduler import RQScheduler
from rq.worker import WorkerStatus

log = logging.getLogger("rq.worker")

REDIS_AWAY = (RedisConnectionError, RedisTimeoutError)  # also BusyLoadingError: a restarted Redis loading
FIRST_WAIT = 1.0  # seconds before the first try again at an absent Redis; doubled each time ...
WAIT_CAP = 5.0  # ... up to this: a worker notices Redis back within a few seconds
LOOP_SECONDS = 2  # an idle worker comes round (heartbeat, upkeep) this often; RQ's default is 405 s
UPKEEP_SECONDS = 2.0  # scheduler alive, poll scheduled, the sweep when due: at most this often
SWEEP_SHARE = 5  # the sweep runs INBOX_STALE_SECONDS / SWEEP_SHARE apart (one worker at a time) ...
SWEEP_BOUNDS = (1.0, 30.0)  # ... within these bounds, seconds

T = TypeVar("T")


class Backoff:
    """Capped exponential waits between tries at an absent Redis, each said in the log in words.
    A failure after a quiet spell (twice the cap without one) starts again from the first wait."""

    def __init__(self, connection, stopping: Callable[[], bool] = lambda: False) -> None:
        self.where = where(connection)
        self.stopping = stopping
        self.delay = FIRST_WAIT
        self.last = 0.0

    def wait(self, error: Exception, doing: str, logger: logging.Logger = log) -> None:
        if time.monotonic() - self.last > 2 * WAIT_CAP:
            self.delay = FIRST_WAIT
        logger.warning("Redis at %s is not answering while %s (%s). Trying again in %g s; meanwhile webhooks "
                       "are still stored in the database inbox, to be applied once Redis is back.", self.where, doing,
                       error, self.delay)
        end = time.monotonic() + self.delay
        while time.monotonic() < end and not self.stopping():
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))
        self.delay = min(self.delay * 2, WAIT_CAP)
        self.last = time.monotonic()

    def until_done(self, attempt: Callable[[], T], doing: str) -> T:
        """attempt() until it does not fail for want of Redis."""
        while True:
            try:
                return attempt()
            except REDIS_AWAY as error:
                self.wait(error, doing)


def where(connection) -> str:
    """Redis's address for the log, without any password the URL may hold."""
    kwargs = connection.connection_pool.connection_kwargs
    if kwargs.get("path"):
        return f"{kwargs['path']} (db {kwargs.get('db', 0)})"
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)} (db {kwargs.get('db', 0)})"


def _best_effort(method: Callable, what: str, level: int = logging.DEBUG) -> Callable:
    """RQ's `method`, with a Redis outage logged instead of raised: for the worker's own record in
    Redis (liveness, state, the stop date), and checks whose next step meets the outage anyway (the
    dequeue, which says in the log that Redis is away, and waits)."""

    @functools.wraps(method)
    def tolerant(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except REDIS_AWAY as error:
            self.log.log(level, "Redis at %s is not answering (%s): %s skipped.", where(self.connection), error, what)
            return None

    return tolerant


class Scheduler(RQScheduler):
    """RQ's scheduler process (it moves due scheduled jobs, the poll and event retries, to the
    queue), which waits for an absent Redis instead of dying. Its worker's upkeep restarts it all
    the same if it ever ends, and another worker takes over its lock if its worker is killed."""

    def work(self) -> None:
        backoff = Backoff(self.connection, stopping=lambda: self._stop_requested)
        while True:
            try:
                super().work()
                return
            except REDIS_AWAY as error:
                if self._stop_requested:
                    return  # stopping while Redis is away: its lock and record expire on their own
                backoff.wait(error, "moving scheduled jobs to the queue", self.log)


class Worker(SimpleWorker):
    """RQ's SimpleWorker that never exits for want of Redis (see the module's docstring)."""

    max_connection_wait_time = WAIT_CAP  # RQ's own dequeue backoff: 1 s, doubled, capped (RQ: 60 s)

    def __init__(self, *args, **kwargs) -> None:
        self._burst = False
        self._keeps_poll = False
        self._next_upkeep = 0.0
        self._upkeep_failing = False
        super().__init__(*args, **kwargs)

    @property
    def dequeue_timeout(self) -> int:
        return LOOP_SECONDS  # also sets the connection's socket timeout (RQ: this + 10 s)

    def work(self, burst: bool = False, with_scheduler: bool = False, **options) -> bool:
        self._burst = burst
        if with_scheduler and not burst:
            # Started by the upkeep (and restarted if it ever ends, or taken over when the worker
            # that held its lock is gone), not once at start as RQ does.
            self.scheduler = Scheduler(self.queues, connection=self.connection, serializer=self.serializer)
            self._keeps_poll = True
            with_scheduler = False
        return super().work(burst=burst, with_scheduler=with_scheduler, **options)

    def bootstrap(self, *args, **kwargs) -> None:
        """Register this worker in Redis, waiting for Redis if it is away."""
        backoff = Backoff(self.connection)
        retry = False
        while True:
            try:
                if retry:
                    self._drop_subscription()
                    self.connection.delete(self.key)  # our own half-written record (the name is ours)
                super().bootstrap(*args, **kwargs)
                return
            except REDIS_AWAY as error:
                retry = True
                backoff.wait(error, "registering this worker")

    def _drop_subscription(self) -> None:
        if self.pubsub_thread is not None:
            self.pubsub_thread.stop()
            self.pubsub_thread.join(timeout=1)
            self.pubsub.close()
            self.pubsub_thread = self.pubsub = None

    heartbeat = _best_effort(SimpleWorker.heartbeat, "this worker's heartbeat")
    set_state = _best_effort(SimpleWorker.set_state, "recording this worker's state")
    set_shutdown_requested_date = _best_effort(SimpleWorker.set_shutdown_requested_date, "recording the stop request")
    check_for_suspension = _best_effort(SimpleWorker.check_for_suspension, "the check for `rq suspend`")
    teardown = _best_effort(SimpleWorker.teardown, "unregistering this worker (its record expires on its own)",
                            logging.WARNING)

    def execute_job(self, job, queue) -> None:
        """Run the job; Redis going away while its bookkeeping is written (before or after it ran)
        costs only that bookkeeping. What the job did in the database stands, and anything it
        left undone is an event still pending in the inbox, which the stale sweep hands over again.
        A job that raises fails as in RQ (only that job)."""
        try:
            super().execute_job(job, queue)
        except REDIS_AWAY as error:
            self.log.warning("Redis at %s went away while job %s (%s) was starting or finishing (%s). What it "
                             "wrote to the database stands; its record in Redis may be lost, and any event it "
                             "left pending is handed over again by the stale sweep.",
                             where(self.connection), job.id, job.description, error)
            self.executions.clear()
            self._state = WorkerStatus.IDLE

    @property
    def should_run_maintenance_tasks(self) -> bool:
        """RQ's maintenance (every 10 minutes), or our upkeep when it is due. RQ asks this on every
        round of its loop: between jobs and every LOOP_SECONDS while idle."""
        return super().should_run_maintenance_tasks or (not self._burst and time.monotonic() >= self._next_upkeep)

    def run_maintenance_tasks(self) -> None:
        if not self._burst and time.monotonic() >= self._next_upkeep:
            self._next_upkeep = time.monotonic() + UPKEEP_SECONDS
            self.upkeep()
        if super().should_run_maintenance_tasks:
            try:
                super().run_maintenance_tasks()
            except REDIS_AWAY as error:
                self.log.debug("Redis at %s is not answering (%s): RQ's registry clean-up is put off.",
                               where(self.connection), error)

    def upkeep(self) -> None:
        """Put back what Redis may have lost: this worker's record, the scheduler process, the
        periodic poll, and (at most once per sweep interval across all workers) the hand-over of
        stale pending events. Each step is idempotent, so workers doing it at once is harmless. A
        failure is logged, never raised: the next round tries again."""
        try:
            self._keep_registered()
            self._keep_scheduler()
            if self._keeps_poll:
                self._keep_poll()
            self._sweep_when_due()
        except StopRequested:
            raise
        except REDIS_AWAY as error:  # the dequeue that follows says so in the log, and waits
            self.log.debug("Redis at %s is not answering (%s): the upkeep (scheduler, poll, stale sweep) is put "
                           "off for %g s.", where(self.connection), error, UPKEEP_SECONDS)
        except Exception as error:  # noqa: BLE001 - e.g. the database away: the worker carries on, tries again later
            self.log.warning("The upkeep (scheduler, poll, stale sweep) failed (%s: %s); it is tried again in %g s.",
                             type(error).__name__, error, UPKEEP_SECONDS, exc_info=not self._upkeep_failing)
            self._upkeep_failing = True  # the traceback once, not every round while the database is away
        else:
            self._upkeep_failing = False

    def _keep_registered(self) -> None:
        """Register this worker again if Redis lost its record (Redis came back empty), so that `rq
        info` and the registries see it; the heartbeat alone would leave a record without a birth."""
        if self.connection.hexists(self.key, "birth"):
            return
        with self.connection.pipeline() as pipeline:
            pipeline.hset(self.key, mapping=self.serialize())
            pipeline.hset(self.key, "state", self.get_state())
            worker_registration.register(self, pipeline)
            pipeline.expire(self.key, self.worker_ttl + 60)
            pipeline.execute()
        self.log.info("Registered this worker again: Redis had lost its record.")

    def _keep_scheduler(self) -> None:
        """Start the scheduler process if it is not running and the queue's scheduler lock is free
        (or still ours): at start, after it ended, or when the worker holding the lock is gone."""
        scheduler = self.scheduler
        if scheduler is not None and not (scheduler._process and scheduler._process.is_alive()):
            scheduler.acquire_locks(auto_start=True)

    def _keep_poll(self) -> None:
        from app.orders import polling

        polling.ensure_scheduled()

    def _sweep_when_due(self) -> None:
        """polling.requeue_stale, by one worker at a time, at most once per sweep interval: the
        first worker to set the queue's sweep key (SET NX PX) sweeps; the key's expiry paces it."""
        every = sweep_seconds()
        key = f"{self.queues[0].name}:inbox:sweep"
        if not self.connection.set(key, self.name, nx=True, px=int(every * 1000)):
            return
        from app.orders import polling

        handed = polling.requeue_stale()
        if handed:
            self.log.info("Stale sweep: %d pending event(s) older than %g s handed over again.", handed,
                          stale_seconds())


def stale_seconds() -> float:
    from app.orders import inbox

    return float(current_app.config.get("INBOX_STALE_SECONDS", inbox.STALE_AFTER.total_seconds()))


def sweep_seconds() -> float:
    low, high = SWEEP_BOUNDS
    return min(high, max(low, stale_seconds() / SWEEP_SHARE))


def run_worker(app: Flask, *, burst: bool = False, with_scheduler: bool = True) -> None:
    """Work jobs until stopped (SIGTERM: after the current job), or until the queue is empty with
    `burst`. Started while Redis is away, it waits for it."""
    redis = app.extensions.get("wms.redis")
    if redis is None:
        raise SystemExit("REDIS_URL is not set: without Redis, jobs run in the web process and no worker is needed")
    setup_loghandlers("INFO", name="rq.worker")  # RQ does this on registering; the wait for Redis comes first
    queue = app.extensions["wms.queue"]
    signal.signal(signal.SIGTERM, _stop_waiting)  # RQ puts its own in place once registered
    worker = Backoff(redis).until_done(lambda: Worker([queue], connection=redis), "starting")
    worker.work(burst=burst, with_scheduler=with_scheduler)


def _stop_waiting(signum, frame) -> None:
    log.info("Stopped (%s) before this worker had registered in Redis.", signal.Signals(signum).name)
    raise SystemExit(0)
