"""The compose stage: docker-compose.yml on a real Docker engine.

deploy/test.sh runs this file (never ctest: it needs an engine) after the
Release build, with CONCERTO_BIN naming the build's binaries. The steps run
in file order on one project and stop at the first failure (pytest -x):

 1. the build context leaves out build trees, data and .git;
 2. the image is built once, and every service runs it;
 3. `up -d` until every service is healthy (the time is printed);
 4. the limits, restart policy and init that docker-compose applied;
 5. every daemon that exists is in the file, /readyz 200, each one up;
 6. a write with the admin token, 7. a partner event over CURVE sent from
    the host, 8. a CSV import from a container, as README.md says;
 9. for each daemon, then the gateway: SIGKILL of the daemon's own process
    from the host while a writer keeps registering Tables, and recovery
    through the restart policy;
10. `kill -s SIGKILL` of every service (which disables the restart
    policy) and an explicit `start`;
11. `down` and `up` with the data kept; 12. `down -v` leaves nothing.
After each recovery every write acknowledged so far must be readable.

The daemons are the services named in common/services.def, so a daemon
that adds itself to docker-compose.yml is covered without a change here.
The project is always `concerto-stage`, its image `concerto-stage:latest`,
and the published ports are free ones, so that neither collides with a
deployment or deploy/run.sh on this machine. Leftovers of an earlier run
are removed first. Figures are printed as "compose: ..." lines.
"""
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
import yaml

from concerto_harness import BIN, SOURCE, HttpClient, free_port, services_def, wait_until

DOCKER = "/usr/bin/docker"
COMPOSE = "/usr/bin/docker-compose"
PROJECT = "concerto-stage"
IMAGE = "concerto-stage:latest"
PROJECT_LABEL = f"label=com.docker.compose.project={PROJECT}"
HEALTHY_TIMEOUT = 180
SECRETS_DIR = "/etc/concerto/secrets"

with open(os.path.join(SOURCE, "docker-compose.yml")) as f:
    FILE_SERVICES = yaml.safe_load(f)["services"]
DAEMONS = [name for name, _, _, _ in services_def() if name in FILE_SERVICES]


def figure(text):
    print(f"\ncompose: {text}", file=sys.__stdout__, flush=True)


def run(argv, timeout=600, check=True, env=None):
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    if check and done.returncode != 0:
        pytest.fail(f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def memory_bytes(text):
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    number, unit = re.fullmatch(r"(\d+)([kmg]?)b?", str(text).lower()).groups()
    return int(number) * units.get(unit, 1)


class Stack:
    """The concerto-stage project of docker-compose.yml."""

    def __init__(self, tmp_dir):
        self.tmp_dir = tmp_dir
        self.http_port, self.partner_port = free_port(), free_port()
        self.env = dict(os.environ, COMPOSE_PROJECT_NAME=PROJECT, CONCERTO_IMAGE=IMAGE,
                        CONCERTO_HTTP_PORT=str(self.http_port),
                        CONCERTO_PARTNER_PORT=str(self.partner_port))
        self.token = None
        self.territory = f"stage-{int(time.time())}"
        self.acked = []  # paths of every write acknowledged so far

    def compose(self, *args, timeout=600, check=True):
        return run([COMPOSE, "--project-directory", SOURCE, "-f",
                    os.path.join(SOURCE, "docker-compose.yml"), *args],
                   timeout=timeout, check=check, env=self.env)

    def docker(self, *args, timeout=120, check=True):
        return run([DOCKER, *args], timeout=timeout, check=check, env=self.env)

    def config(self):
        return yaml.safe_load(self.compose("config").stdout)["services"]

    def container(self, service):
        """The id of the service's one container (not a `run` one-off)."""
        ids = self.docker("ps", "-aq", "--filter", PROJECT_LABEL,
                          "--filter", f"label=com.docker.compose.service={service}",
                          "--filter", "label=com.docker.compose.oneoff=False").stdout.split()
        assert len(ids) == 1, f"containers of {service}: {ids}"
        return ids[0]

    def inspect(self, service):
        return json.loads(self.docker("inspect", self.container(service)).stdout)[0]

    def long_running(self):
        return [s for s, c in self.config().items() if c.get("restart", "no") != "no"]

    def leftovers(self):
        found = {}
        for kind in ("container", "volume", "network"):
            extra = ["-a"] if kind == "container" else []
            ids = self.docker(kind, "ls", *extra, "-q", "--filter", PROJECT_LABEL).stdout.split()
            if ids:
                found[kind] = ids
        return found

    def remove_leftovers(self):
        self.compose("down", "-v", "--remove-orphans", "--timeout", "5", check=False)
        for kind, ids in self.leftovers().items():
            force = ["-f"] if kind != "network" else []
            self.docker(kind, "rm", *force, *ids, check=False)
        assert self.leftovers() == {}

    def wait_healthy(self):
        """Waits until every long-running service is healthy and every
        one-shot exited 0; returns the seconds it took."""
        start = time.monotonic()
        services = self.config()

        def healthy():
            for name, conf in services.items():
                state = self.inspect(name)["State"]
                if conf.get("restart", "no") == "no":
                    if state["Status"] != "exited":
                        return False
                    assert state["ExitCode"] == 0, self.compose("logs", name).stdout
                elif state.get("Health", {}).get("Status") != "healthy":
                    return False
            return True

        wait_until(healthy, HEALTHY_TIMEOUT, interval=0.5, what="every service healthy")
        return time.monotonic() - start

    def http(self, token=None):
        return HttpClient(self.http_port, timeout=5.0, token=token)

    def wait_ready(self, timeout=60):
        def ready():
            try:
                return self.http().get("/readyz").status == 200
            except OSError:
                return False

        wait_until(ready, timeout, interval=0.2, what="/readyz 200")

    def secret(self, name):
        return self.compose("exec", "-T", "gateway", "cat", f"{SECRETS_DIR}/{name}").stdout

    def check_acked(self):
        """Every acknowledged write is readable."""
        client = self.http()
        missing = [p for p in self.acked if client.get(p).status != 200]
        client.close()
        assert not missing, f"{len(missing)} acknowledged writes lost: {missing[:5]}"


@pytest.fixture(scope="module")
def stack(request, tmp_path_factory):
    s = Stack(str(tmp_path_factory.mktemp("compose")))
    s.remove_leftovers()
    yield s
    if request.session.testsfailed:
        print(s.compose("ps", check=False).stdout)
        print(s.compose("logs", "--no-color", "--tail", "60", check=False).stdout)
    s.remove_leftovers()


def test_build_context_leaves_out_build_trees_data_and_git(stack):
    present = [p for p in (".git", "build", "build-asan", "build-fuzz", "data")
               if os.path.exists(os.path.join(SOURCE, p))]
    assert present, "nothing here that .dockerignore should leave out: this check proves nothing"
    script = ("FROM debian:bookworm-slim\nCOPY . /context\n"
              "RUN cd /context && test -f deploy/Dockerfile && for p in " + " ".join(present) +
              "; do if [ -e $p ]; then echo \"$p reached the engine\"; exit 1; fi; done\n")
    tag = "concerto-stage-context:check"
    done = subprocess.run([DOCKER, "build", "-q", "--rm", "-t", tag, "-f", "-", SOURCE],
                          input=script, capture_output=True, text=True, timeout=300,
                          env=stack.env)
    stack.docker("rmi", "-f", tag, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_is_built_once_and_shared(stack):
    services = stack.config()
    builders = [name for name, conf in services.items() if "build" in conf]
    assert len(builders) == 1, f"services that build: {builders}"
    assert {conf["image"] for conf in services.values()} == {IMAGE}
    start = time.monotonic()
    stack.compose("build", timeout=1800)
    built = time.monotonic() - start
    stack.docker("image", "prune", "-f", "--filter", "label=org.opencontainers.image.title=concerto")
    size = int(stack.docker("image", "inspect", "-f", "{{.Size}}", IMAGE).stdout)
    figure(f"image {IMAGE} built in {built:.0f} s, {size / 1e6:.0f} MB")


def test_up_until_every_service_is_healthy(stack):
    start = time.monotonic()
    stack.compose("up", "-d")
    stack.wait_healthy()
    figure(f"up -d to every service healthy: {time.monotonic() - start:.1f} s")


def test_limits_restart_policy_and_init_are_applied(stack):
    for name, conf in stack.config().items():
        host = stack.inspect(name)["HostConfig"]
        assert "mem_limit" in conf, f"{name} has no mem_limit"
        assert host["Memory"] == memory_bytes(conf["mem_limit"]) > 0, (name, host["Memory"])
        assert host["PidsLimit"] == int(conf["pids_limit"]) > 0, (name, host["PidsLimit"])
        assert host["Init"] is True, name
        assert host["ReadonlyRootfs"] is True, name
        if conf.get("restart", "no") != "no":
            assert host["RestartPolicy"]["Name"] == conf["restart"], name
            assert "healthcheck" in conf, f"{name} has no healthcheck"
    figure("limits applied: " + ", ".join(
        f"{n} {memory_bytes(c['mem_limit']) >> 20} MiB" for n, c in stack.config().items()))


def test_every_daemon_is_in_the_file_and_up(stack):
    built = [name for name, _, _, _ in services_def()
             if os.path.exists(os.path.join(BIN, f"concerto-{name}"))]
    assert DAEMONS and set(built) <= set(DAEMONS), f"built {built}, in the file {DAEMONS}"
    services = stack.config()
    gateway = services["gateway"]
    required = gateway["environment"]["CONCERTO_GATEWAY_REQUIRED_SERVICES"].split(",")
    assert sorted(required) == sorted(DAEMONS)
    stores = set()
    for name in DAEMONS:
        assert gateway["depends_on"][name]["condition"] == "service_healthy", name
        (mount,) = [m for m in stack.inspect(name)["Mounts"] if m["Destination"] == "/var/lib/concerto"]
        assert mount["Type"] == "volume", (name, mount)
        stores.add(mount["Name"])
    assert len(stores) == len(DAEMONS), stores
    client = stack.http()
    assert client.get("/readyz").status == 200
    status = client.get("/v1/status").json()["services"]
    assert all(status[name]["up"] for name in DAEMONS), status


def test_a_write_with_the_admin_token(stack):
    stack.token = stack.secret("admin.token").strip()
    client = stack.http(token=stack.token)
    territory = {"id": stack.territory, "name": "Stage", "kind": "borough"}
    assert client.request("POST", "/v1/territories", body=territory).status == 201
    stack.acked.append(f"/v1/territories/{stack.territory}")
    table = {"id": f"{stack.territory}-tq", "name": "Table du stage",
             "territoryId": stack.territory}
    assert stack.http().request("POST", "/v1/tables", body=table).status == 401
    answer = client.request("POST", "/v1/tables", body=table)
    assert answer.status == 201, answer
    stack.acked.append(f"/v1/tables/{stack.territory}-tq")
    stack.check_acked()


def test_a_partner_event_over_curve_from_the_host(stack):
    keys = os.path.join(stack.tmp_dir, "keys")
    os.makedirs(keys, mode=0o700)
    for name in ("demo-partner.key", "demo-partner.pub", "gateway.pub"):
        with open(os.path.join(keys, name), "w") as f:
            f.write(stack.secret(name))
    event = {"tableId": f"{stack.territory}-tq", "attestedOn": "2026-11-20",
             "author": "Conseil du stage"}
    done = run([os.path.join(BIN, "concerto-publish"),
                "--endpoint", f"tcp://127.0.0.1:{stack.partner_port}",
                "--key", os.path.join(keys, "demo-partner"),
                "--server-key", os.path.join(keys, "gateway.pub"),
                "--type", "concerto.registry.v1.RecordAttestationRequest",
                "--event-id", f"{stack.territory}-att", "--json", json.dumps(event)],
               timeout=60)
    assert "status: OK" in done.stdout, done.stdout
    attestations = stack.http().get(f"/v1/tables/{stack.territory}-tq/attestations").json()
    assert [a["recordedBy"] for a in attestations["attestations"]] == ["partner:demo-partner"]


def test_a_csv_import_from_a_container(stack):
    folder = os.path.join(stack.tmp_dir, "import")
    os.makedirs(folder)
    os.chmod(folder, 0o755)
    with open(os.path.join(folder, "territories.csv"), "w") as f:
        f.write(f"id,name,kind\n{stack.territory}-csv,Stage CSV,borough\n")
    os.chmod(os.path.join(folder, "territories.csv"), 0o644)
    done = stack.compose("run", "--rm", "--no-deps", "-T", "-v", f"{folder}:/import:ro",
                         "registry", "concerto-registry", "import", "/import")
    assert "imported 1 territories" in done.stdout, done.stdout + done.stderr
    stack.acked.append(f"/v1/territories/{stack.territory}-csv")
    stack.check_acked()


class Writer(threading.Thread):
    """Registers Tables one after another until stopped; keeps the paths
    of those acknowledged (201) and counts the other answers by status
    ("none" when the connection failed)."""

    def __init__(self, stack, prefix):
        super().__init__(daemon=True)
        self.stack, self.prefix = stack, prefix
        self.acked, self.refused, self.stopping = [], Counter(), threading.Event()

    def run(self):
        client = self.stack.http(token=self.stack.token)
        n = 0
        while not self.stopping.is_set():
            n += 1
            table_id = f"{self.prefix}-{n}"
            body = {"id": table_id, "name": f"Table {table_id}",
                    "territoryId": self.stack.territory}
            try:
                status = client.request("POST", "/v1/tables", body=body).status
            except OSError:
                status = "none"
                time.sleep(0.1)
            if status == 201:
                self.acked.append(f"/v1/tables/{table_id}")
            else:
                self.refused[status] += 1
            time.sleep(0.01)
        client.close()

    def stop(self):
        self.stopping.set()
        self.join(30)


def daemon_process(stack, service):
    """Host pid of the daemon's own process: the child of the container's
    init (docker-init, `init: true`) running concerto-<service>."""
    init_pid = stack.inspect(service)["State"]["Pid"]
    top = stack.docker("top", stack.container(service), "-o", "pid,ppid,args").stdout
    for line in top.splitlines()[1:]:
        pid, ppid, program = line.split()[:3]
        if os.path.basename(program) == f"concerto-{service}":
            assert int(ppid) == init_pid, top
            return int(pid), init_pid
    pytest.fail(f"no concerto-{service} process in {service}:\n{top}")


def exit_codes_since(stack, cid, since):
    return stack.docker("events", "--since", f"{since:.3f}", "--until", f"{time.time():.3f}",
                        "--filter", f"container={cid}", "--filter", "event=die",
                        "--format", "{{.Actor.Attributes.exitCode}}").stdout.split()


@pytest.mark.parametrize("service", DAEMONS + ["gateway"])
def test_sigkill_of_the_daemon_recovers_through_the_restart_policy(stack, service):
    cid = stack.container(service)
    restarts = stack.inspect(service)["RestartCount"]
    writer = Writer(stack, f"{stack.territory}-{service}")
    writer.start()
    wait_until(lambda: writer.acked, 30, what="a first acknowledged write")
    pid, init_pid = daemon_process(stack, service)
    killed = time.time()
    os.kill(pid, 9)
    wait_until(lambda: stack.inspect(service)["RestartCount"] == restarts + 1, 60,
               interval=0.1, what=f"{service} restarted by its policy")
    restarted = time.time() - killed
    stack.wait_healthy()
    healthy = time.time() - killed
    stack.wait_ready()
    ready = time.time() - killed
    during = len(writer.acked)
    wait_until(lambda: len(writer.acked) > during, 30, what="a write acknowledged after recovery")
    writer.stop()
    assert exit_codes_since(stack, cid, killed - 1) == ["137"]
    assert stack.container(service) == cid
    stack.acked += writer.acked
    stack.check_acked()
    figure(f"SIGKILL {service}: pid {pid} (child of docker-init {init_pid}) exited 137, "
           f"restarted by the policy after {restarted:.1f} s (restart count {restarts + 1}), "
           f"healthy after {healthy:.1f} s, "
           f"/readyz 200 after {ready:.1f} s; writes during the round: {len(writer.acked)} "
           f"acknowledged, others {dict(writer.refused) or 'none'}; all "
           f"{len(stack.acked)} acknowledged so far readable")


def test_kill_of_every_service_then_start(stack):
    running = stack.long_running()
    restarts = {s: stack.inspect(s)["RestartCount"] for s in running}
    stack.compose("kill", "-s", "SIGKILL")
    wait_until(lambda: not any(stack.inspect(s)["State"]["Running"] for s in running), 30,
               what="every service killed")
    # A manual kill disables the restart policy: nothing comes back by itself
    # (the policy restarts within a second, as the rounds above show).
    time.sleep(3)
    for s in running:
        state = stack.inspect(s)
        assert not state["State"]["Running"] and state["State"]["ExitCode"] == 137, (s, state["State"])
        assert state["RestartCount"] == restarts[s], s
    start = time.monotonic()
    stack.compose("start")
    stack.wait_healthy()
    stack.wait_ready()
    figure(f"kill -s SIGKILL of {', '.join(running)}: none restarted by itself; "
           f"start to healthy and ready: {time.monotonic() - start:.1f} s")
    stack.check_acked()


def test_down_and_up_keep_the_data(stack):
    token = stack.token
    stack.compose("down")
    assert stack.leftovers().keys() == {"volume"}
    start = time.monotonic()
    stack.compose("up", "-d")
    stack.wait_healthy()
    stack.wait_ready()
    figure(f"down, then up -d to healthy and ready: {time.monotonic() - start:.1f} s, "
           f"{len(stack.acked)} acknowledged writes all readable")
    stack.check_acked()
    assert stack.secret("admin.token").strip() == token
    table = {"id": f"{stack.territory}-after-up", "name": "Après up",
             "territoryId": stack.territory}
    assert stack.http(token=token).request("POST", "/v1/tables", body=table).status == 201


def test_down_v_removes_everything(stack):
    stack.compose("down", "-v")
    assert stack.leftovers() == {}
