"""The one list of services, common/services.def, against the files that
deploy them: deploy/run.sh, docker-compose.yml and deploy/Dockerfile.

Only what holds for any correct version of those files is checked, so that
they may change shape: every endpoint variable of a listed service, in any
compose service's environment, uses that service's port; a daemon's own
published ports and healthcheck use its ports; every listed daemon that has
a services/<name>/ folder runs in compose; the image EXPOSEs every listed
port; run.sh reads the list, or names each daemon with its ROUTER port."""
import os
import re

import yaml

ROOT = os.environ.get("CONCERTO_SOURCE",
                      os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
VARIABLE = re.compile(r"^CONCERTO_([A-Z_]+?)_(ROUTER|PUB)(_BIND)?$")


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def services():
    """(name, NAME, router port, pub port) for each SERVICE line."""
    out = []
    for line in read("common/services.def").splitlines():
        m = re.match(r"SERVICE\((\w+),\s*(\w+),\s*(\d+),\s*(\d+)\)", line)
        if m:
            out.append((m[1], m[2], int(m[3]), int(m[4])))
    return out


def port_of(endpoint):
    m = re.search(r":(\d+)$", str(endpoint).strip())
    return int(m[1]) if m else None


def compose_services():
    return yaml.safe_load(read("docker-compose.yml"))["services"]


def runs(definition):
    """The listed daemon a compose service runs (concerto-<name>), or None."""
    command = definition.get("command", "")
    words = " ".join(command) if isinstance(command, list) else str(command)
    for name, _, _, _ in services():
        if re.search(rf"\bconcerto-{name}\b", words):
            return name
    return None


def environment(definition):
    env = definition.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env if "=" in item)
    return env


def test_the_list_is_well_formed():
    listed = services()
    assert listed, "services.def lists no service"
    names = [s[0] for s in listed]
    ports = [p for s in listed for p in s[2:]]
    assert len(set(names)) == len(names)
    assert len(set(ports)) == len(ports), "two services share a port"
    for name, prefix, router, pub in listed:
        assert prefix == name.upper()
        assert 1024 < router < 65536 and 1024 < pub < 65536


def test_every_endpoint_variable_in_compose_uses_the_lists_port():
    by_prefix = {s[1]: s for s in services()}
    checked = 0
    for key, definition in compose_services().items():
        for var, value in environment(definition).items():
            m = VARIABLE.match(var)
            if not m or m[1] not in by_prefix:
                continue
            _, _, router, pub = by_prefix[m[1]]
            want = router if m[2] == "ROUTER" else pub
            assert port_of(value) == want, f"{key}: {var}={value}, the list says port {want}"
            checked += 1
    assert checked, "no endpoint variable found in docker-compose.yml"


def test_compose_daemons_publish_and_check_their_own_ports():
    by_name = {s[0]: s for s in services()}
    for key, definition in compose_services().items():
        name = runs(definition)
        if not name:
            continue
        own = set(by_name[name][2:])
        for spec in definition.get("ports", []) + definition.get("expose", []):
            container = int(str(spec).split("/")[0].split(":")[-1])
            assert container in own, f"{key} publishes {spec}, not one of its ports {own}"
        health = definition.get("healthcheck", {}).get("test", [])
        words = " ".join(health) if isinstance(health, list) else str(health)
        for endpoint in re.findall(r"tcp://[^\s\"']+", words):
            assert port_of(endpoint) in own, f"{key} checks {endpoint}, not one of {own}"


def test_every_daemon_with_a_folder_runs_in_compose():
    running = {runs(d) for d in compose_services().values()}
    for name, _, _, _ in services():
        if os.path.isdir(os.path.join(ROOT, "services", name)):
            assert name in running, f"services/{name}/ exists but no compose service runs it"


def test_the_image_exposes_every_port():
    exposed = set()
    for line in read("deploy/Dockerfile").splitlines():
        if line.strip().upper().startswith("EXPOSE"):
            exposed.update(int(p.split("/")[0]) for p in line.split()[1:])
    for name, _, router, pub in services():
        assert {router, pub} <= exposed, f"the Dockerfile does not EXPOSE {name}'s ports"


def test_run_sh_reads_the_list_or_agrees_with_it():
    text = read("deploy/run.sh")
    if "services.def" in text:
        return
    for name, _, router, _ in services():
        if os.path.isdir(os.path.join(ROOT, "services", name)):
            assert re.search(rf"\b{name}\b[^\n]*\b{router}\b", text), \
                f"run.sh neither reads services.def nor gives {name} port {router}"
