"""`manage.py serve --http-workers N`: N server processes behind one port.

The parent binds the listening socket once and starts N `serve` processes that each adopt it
(Daphne's `fd:` endpoint); the kernel hands each new connection to one of them, so HTTP
(webhooks, console pages, the API) and websockets spread over the processes and their cores
with no proxy and no extra daemon. Only the first process runs the task worker, the mailbox
runner and the retention schedule (unless --no-worker); the others serve.

Every process keeps Daphne, websockets included, rather than a WSGI pool for HTTP beside one
Daphne for `/ws/`: one port needs no router that tells the two apart, and the console's push
path is the same whichever process a socket lands on. What crosses processes is the doorbell:
with REDIS_URL (the scaled mode) every process hears every bell; with the embedded in-memory
layer a change reaches sockets on the other processes through the watchman's read of the event
log (HELPDESK_EVENT_POLL_SECONDS), which `serve` says when it starts.

A process that dies is started again (after a second); Ctrl-C or SIGTERM stops them all.
"""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

log = logging.getLogger(__name__)

RESTART_DELAY = 1.0
STOP_TIMEOUT = 10.0


def run(*, host: str, port: int, workers: int, member_args: list[str], say) -> int:
    """Serve with `workers` processes until SIGINT/SIGTERM; `member_args` are passed to each
    member's `serve`, and `say` prints for the operator. Returns the exit status."""
    listener = socket.create_server((host, port), backlog=2048)  # SO_REUSEADDR: quick restarts
    listener.set_inheritable(True)
    manage = Path(__file__).resolve().parent.parent / "manage.py"
    stopping = threading.Event()

    def start(index: int) -> subprocess.Popen:
        args = [sys.executable, str(manage), "serve", "--fd", str(listener.fileno()), "--host", host,
                "--port", str(port), *member_args]
        if index:
            args.append("--pool-member")  # not the first: serve only
        return subprocess.Popen(args, pass_fds=(listener.fileno(),))

    members = [start(i) for i in range(workers)]

    def stop(signum, frame):
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    say(f"Helpdesk pool: {workers} server processes on http://{host}:{port}/ "
        f"(pids {', '.join(str(m.pid) for m in members)})")
    try:
        while not stopping.wait(0.5):
            for index, member in enumerate(members):
                if member.poll() is not None and not stopping.is_set():
                    log.error("server process %s (pool member %d) exited with %s; starting it again",
                              member.pid, index, member.returncode)
                    if stopping.wait(RESTART_DELAY):
                        break
                    members[index] = start(index)
    finally:
        for member in members:
            if member.poll() is None:
                member.send_signal(signal.SIGTERM)
        for member in members:
            try:
                member.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                member.kill()
                member.wait()
        listener.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
