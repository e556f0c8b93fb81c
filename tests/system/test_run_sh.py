"""deploy/run.sh as a supervisor, run with --no-build against this build.

Every daemon of common/services.def and the gateway get free ports, so the
launcher never collides with a running one. Each test starts run.sh in its
own session and sends SIGINT to that process group, as a terminal's Ctrl-C
does. The launcher's output is read from a file; its lines
"<name> started (pid N)" say which process runs each daemon.
"""
import os
import re
import signal
import socket
import subprocess

import pytest

from concerto_harness import (BIN, SOURCE, HttpClient, free_port, services_def, tcp_endpoint,
                              wait_until)

RUN_SH = os.path.join(SOURCE, "deploy/run.sh")
STARTED = re.compile(r"^run +\| (\w+) started \(pid (\d+)\)$", re.M)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Launcher:
    """deploy/run.sh --no-build on free ports, data in tmp_dir."""

    def __init__(self, tmp_dir, **env):
        self.http_port = free_port()
        self.env = dict(os.environ, CONCERTO_BUILD_DIR=os.path.dirname(BIN),
                        CONCERTO_DATA_DIR=os.path.join(tmp_dir, "data"),
                        CONCERTO_GATEWAY_HTTP=f"127.0.0.1:{self.http_port}",
                        CONCERTO_GATEWAY_PARTNER=tcp_endpoint(),
                        CONCERTO_REGISTRY_DEMO_DATA="", CONCERTO_READY_TIMEOUT="30")
        for _, var, _, _ in services_def():
            self.env[f"CONCERTO_{var}_ROUTER"] = tcp_endpoint()
            self.env[f"CONCERTO_{var}_PUB"] = tcp_endpoint()
        self.env.update(env)
        self.log_path = os.path.join(tmp_dir, "run.log")
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(["/bin/bash", RUN_SH, "--no-build"], env=self.env,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         start_new_session=True)

    def output(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def pids(self, name):
        """Every pid the launcher started `name` with, oldest first."""
        return [int(pid) for n, pid in STARTED.findall(self.output()) if n == name]

    def every_pid(self):
        return [int(pid) for _, pid in STARTED.findall(self.output())]

    def wait_output(self, text, timeout=30.0):
        def seen():
            if text in self.output():
                return True
            assert self.proc.poll() is None, f"run.sh exited:\n{self.output()}"
            return False

        wait_until(seen, timeout, interval=0.1, what=f"run.sh to print {text!r}")

    def interrupt(self, timeout=30.0):
        """Ctrl-C: SIGINT to the launcher's process group; its exit code."""
        os.killpg(self.proc.pid, signal.SIGINT)
        return self.proc.wait(timeout)

    def exit_code(self, timeout):
        return self.proc.wait(timeout)

    def cleanup(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        for pid in self.every_pid():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def launch(tmp_path):
    started = []

    def start(**env):
        launcher = Launcher(str(tmp_path), **env)
        started.append(launcher)
        return launcher

    yield start
    for launcher in started:
        launcher.cleanup()


def ready(port):
    try:
        return HttpClient(port, timeout=2.0).get("/readyz").status == 200
    except OSError:
        return False


def test_a_killed_daemon_is_restarted_and_ctrl_c_stops_everything(launch):
    run = launch()
    run.wait_output("Concerto is running")
    names = re.search(r"Concerto is running: (.*)", run.output()).group(1).split()
    assert "gateway" in names and len(names) >= 2, names
    for name in names:
        (old,) = run.pids(name)
        os.kill(old, signal.SIGKILL)
        run.wait_output(f"{name} exited (status 137, SIGKILL); restarting in 0.5s")
        wait_until(lambda: len(run.pids(name)) == 2, 10, what=f"{name} restarted")
        assert run.pids(name)[1] != old and alive(run.pids(name)[1])
        wait_until(lambda: ready(run.http_port), 20, interval=0.2, what="/readyz 200")
        assert run.proc.poll() is None
    assert "Killed" not in run.output()  # bash's own job report stays out

    assert run.interrupt() == 0, run.output()
    assert not [pid for pid in run.every_pid() if alive(pid)]
    for name in names:
        assert f"{name} stopped (status 0)" in run.output()


def test_a_daemon_with_a_bad_setting_stops_everything_with_its_last_lines(launch):
    run = launch(CONCERTO_REGISTRY_SYNCHRONOUS="sometimes")
    assert run.exit_code(60) == 1, run.output()
    out = run.output()
    assert len(run.pids("registry")) == 5, out
    assert "gateway" not in [n for n, _ in STARTED.findall(out)]
    report = out.index("error: registry exited 5 times within 60s")
    assert "synchronous must be FULL or NORMAL, not sometimes" in out[report:], out
    assert not [pid for pid in run.every_pid() if alive(pid)]


def test_a_port_in_use_stops_everything_with_the_daemons_last_lines(launch, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = launch(CONCERTO_GATEWAY_HTTP=f"127.0.0.1:{port}")
        assert run.exit_code(60) == 1, run.output()
    out = run.output()
    assert len(run.pids("gateway")) == 5, out
    report = out.index("error: gateway exited 5 times within 60s")
    assert f"127.0.0.1:{port}: address already in use" in out[report:], out
    # The services started before it were stopped, not left running.
    assert "registry stopped (status 0)" in out[:report], out
    assert not [pid for pid in run.every_pid() if alive(pid)]


def test_sigint_before_anything_is_ready_still_exits_0(launch):
    # A registry that cannot answer yet: the launcher is still waiting for it.
    run = launch(CONCERTO_REGISTRY_SYNCHRONOUS="sometimes", CONCERTO_RESTART_LIMIT="100")
    run.wait_output("registry exited")
    assert run.interrupt() == 0, run.output()
    assert not [pid for pid in run.every_pid() if alive(pid)]
