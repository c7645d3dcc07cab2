"""The fork server's loop and protocol, with children that only pretend to be servers.

A real ``ForkServer`` runs in a subprocess; its children (``_become_server`` replaced) either
announce they are up and sleep, sleep without a word, or exit with a given code. The hub's
side (``hub.spawners.forkclient``) talks to it over the real Unix socket. Real servers are
forked in tests/integration/test_burst.py.
"""

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest

from hub.spawners import forkclient
from hub.spawners.readiness import wait_until_answering

SCRIPT = """
import os, signal, sys, time
from hub.spawners.forkserver import ForkServer


class PretendServers(ForkServer):
    def _become_server(self, spec, ready_r, ready_w):
        os.close(ready_r)
        self._close_inherited()
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        action = spec["args"][0]
        if action.startswith("exit:"):
            os._exit(int(action[5:]))
        if action == "ready":
            os.write(ready_w, b"ready\\n")
            os.close(ready_w)
        time.sleep(60)
        os._exit(0)


server = PretendServers(sys.argv[1], grace=0.5, max_starting=int(sys.argv[2]))
server.open()
print("listening", flush=True)
try:
    server.run()
finally:
    server.shutdown()
sys.stderr.flush()
os._exit(0)
"""


@pytest.fixture
def forkserver(tmp_path):
    """Start a pretend fork server: ``start(max_starting)`` -> (socket path, process)."""
    started = []

    def start(max_starting=4):
        script = tmp_path / "pretend.py"
        script.write_text(SCRIPT, encoding="utf-8")
        path = tmp_path / "run" / "fs.sock"
        proc = subprocess.Popen(
            [sys.executable, str(script), str(path), str(max_starting)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        assert proc.stdout.readline().strip() == "listening"
        return path, proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)


def spawn(path, action):
    return forkclient.spawn(path, [action], {}, "/", f"test {action}")


async def settled(watch, timeout=10):
    follower = asyncio.ensure_future(watch.follow())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not (watch.ready or not watch.watching):
        watch.changed.clear()
        try:
            await asyncio.wait_for(watch.changed.wait(), deadline - time.monotonic())
        except TimeoutError:
            break
    return follower


def test_ready_then_the_real_exit_status(forkserver):
    path, _ = forkserver()

    async def scenario():
        watch = await spawn(path, "ready")
        follower = await settled(watch)
        assert watch.ready and watch.returncode is None
        os.kill(watch.pid, signal.SIGKILL)
        await asyncio.wait_for(follower, 10)
        assert watch.returncode == -signal.SIGKILL and not watch.watching
        assert await forkclient.exit_status(path, watch.pid) == -signal.SIGKILL
        failed = await spawn(path, "exit:3")
        await asyncio.wait_for(await settled(failed), 10)
        assert failed.returncode == 3 and not failed.ready

    asyncio.run(scenario())


def test_a_burst_is_queued_never_refused(forkserver):
    path, proc = forkserver(max_starting=2)

    async def scenario():
        watches = await asyncio.gather(*[spawn(path, "ready") for _ in range(120)])
        assert len({w.pid for w in watches}) == 120
        for watch in watches:
            watch.close()

    asyncio.run(scenario())
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
    log = proc.stderr.read()
    assert "stopping 120 server(s)" in log and "did not stop" not in log


def test_at_most_max_starting_servers_start_at_once(forkserver):
    path, _ = forkserver(max_starting=2)

    async def scenario():
        silent = [await spawn(path, "sleep") for _ in range(2)]  # never say they are up
        third = asyncio.ensure_future(spawn(path, "ready"))
        await asyncio.sleep(1.0)
        assert not third.done(), "a third server started while two were starting"
        os.kill(silent[0].pid, signal.SIGKILL)  # its slot is freed when it ends
        watch = await asyncio.wait_for(third, 5)
        assert watch.pid > 0

    asyncio.run(scenario())


def test_stopping_stops_the_servers_and_refuses_the_queue(forkserver):
    path, proc = forkserver(max_starting=1)

    async def scenario():
        first = await spawn(path, "sleep")
        queued = asyncio.ensure_future(spawn(path, "ready"))
        await asyncio.sleep(0.3)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        with pytest.raises(OSError, match="stopping"):
            await asyncio.wait_for(queued, 5)
        follower = await settled(first)
        await asyncio.wait_for(follower, 5)
        assert first.returncode == -signal.SIGTERM
        return time.monotonic() - t0

    assert asyncio.run(scenario()) < 2
    assert proc.wait(5) == 0
    assert not path.exists()


def test_a_fork_server_that_is_gone(tmp_path, forkserver):
    with pytest.raises(forkclient.ForkServerGone, match="no socket"):
        asyncio.run(spawn(tmp_path / "absent.sock", "ready"))
    path, proc = forkserver()
    proc.kill()
    proc.wait(5)
    with pytest.raises(forkclient.ForkServerGone, match="nobody listens"):
        asyncio.run(spawn(path, "ready"))
    assert asyncio.run(forkclient.exit_status(path, 1)) is None


def test_a_zombie_is_not_running():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        deadline = time.monotonic() + 5
        while forkclient.pid_running(pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not forkclient.pid_running(pid)  # a zombie until reaped below
        assert os.waitpid(pid, os.WNOHANG)[0] == pid
    finally:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    assert forkclient.pid_running(os.getpid())


def test_exit_statuses_and_titles_read_like_the_log():
    assert forkclient.describe_returncode(-9) == "killed by signal 9 (SIGKILL)"
    assert forkclient.describe_returncode(1) == "exit code 1"
    assert forkclient.describe_returncode(None) == "exit status unknown"
    assert forkclient.server_title("ana", "air_quality") == "biblio-ia singleuser ana/air_quality"


def test_readiness_stops_at_the_notice_or_when_the_server_dies():
    async def scenario():
        notice, state = asyncio.Event(), {"up": False}
        target = "http://127.0.0.1:9/api"  # discard port: nothing answers

        async def alive():
            return True

        async def announce():
            await asyncio.sleep(0.3)
            state["up"] = True
            notice.set()

        asyncio.ensure_future(announce())
        t0 = time.monotonic()
        up = await wait_until_answering(
            target,
            timeout=10,
            alive=alive,
            interval=5,
            notice=notice,
            noticed=lambda: state["up"],
        )
        assert up and time.monotonic() - t0 < 2

        async def dead():
            return False

        assert not await wait_until_answering(target, timeout=10, alive=dead)

    asyncio.run(scenario())


def test_server_ports_below_the_ephemeral_range_never_given_twice():
    from hub.spawners.local import BiblioLocalSpawner

    spawners = [BiblioLocalSpawner(port_range=(25000, 25002)) for _ in range(3)]
    ports = [s._pick_port() for s in spawners]
    assert sorted(ports) == [25000, 25001, 25002]
    try:
        spawners[0].port = spawners[0]._picked_port = ports[0]
        spawners[0]._release_port()
        assert spawners[0].port == 0 and spawners[1]._pick_port() == ports[0]
    finally:
        BiblioLocalSpawner._ports_in_use.difference_update(ports)
