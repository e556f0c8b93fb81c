"""The harness's own promises that every system test relies on.

Ports: a port chosen for a daemon must still be free when the daemon binds
it, seconds later. The kernel takes ports for other processes' bind(0) and
outgoing connections from its ephemeral range, so free_port() hands out
none from it; none twice in a run (a stopped daemon's port may be rebound
by its restart); none another test run on the machine holds; none in use.
"""
import os
import socket
import subprocess
import sys

from concerto_harness import PortAllocator, ephemeral_ports, free_port

OTHER_RUN = """
import sys
import concerto_harness as h
a = h.PortAllocator(start=0)
print(" ".join(str(a.take()) for _ in range(int(sys.argv[1]))))
"""


def test_ports_are_outside_the_kernels_ephemeral_range_and_never_repeat():
    low, high = ephemeral_ports()
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)
    assert not [p for p in ports if low <= p <= high]


def test_a_port_in_use_is_skipped():
    first = PortAllocator(start=0).ports[0]
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", first))
        busy.listen()
        assert PortAllocator(start=0).take() != first


def test_a_port_another_run_holds_is_skipped():
    """Both start at the same place; the other process must step over the
    ports this one holds, which it reserved first."""
    mine = PortAllocator(start=0)
    held = {mine.take() for _ in range(20)}
    out = subprocess.run([sys.executable, "-c", OTHER_RUN, "20"], capture_output=True,
                         text=True, env=os.environ, check=True).stdout
    theirs = {int(p) for p in out.split()}
    assert len(theirs) == 20
    assert not held & theirs
