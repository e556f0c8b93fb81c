"""The business clock and Montréal's calendar at a daemon's start.

CONCERTO_CLOCK_START sets business time (logged at start); a value that is
not an instant, a zone the system cannot load or a fiscal year that starts
in January stops the daemon before it serves, with the reason. Every
daemon lists both settings in --help.
"""
import os
import subprocess
import tempfile

import pytest

from concerto_harness import BIN, service_env, start_service, tcp_endpoint

REGISTRY = os.path.join(BIN, "concerto-registry")


def run_registry(tmp, **env):
    """Starts the registry expecting it to refuse; returns its stderr."""
    full = dict(os.environ, CONCERTO_DATA_DIR=tmp,
                **service_env("registry", tcp_endpoint(), tcp_endpoint()), **env)
    proc = subprocess.run([REGISTRY], env=full, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1, proc.stderr
    return proc.stderr


def test_help_lists_the_clock_and_the_fiscal_year():
    out = subprocess.run([REGISTRY, "--help"], capture_output=True, text=True).stdout
    assert "CONCERTO_CLOCK_START" in out
    assert "CONCERTO_FISCAL_YEAR_START_MONTH" in out and "(default: 4)" in out


@pytest.mark.parametrize("value, says", [
    ("2026-11-26", "'2026-11-26' is not an ISO 8601 instant such as 2026-11-26T03:30:00Z"),
    ("2026-11-26T03:30:00", "has no zone: end it with Z or an offset"),
    ("2026-02-30T00:00:00Z", "is not a real date and time"),
    ("tomorrow", "'tomorrow' is not an ISO 8601 instant"),
])
def test_bad_clock_start_stops_the_daemon_with_the_reason(value, says):
    with tempfile.TemporaryDirectory() as tmp:
        err = run_registry(tmp, CONCERTO_CLOCK_START=value)
        assert "cannot set the business clock" in err and "CONCERTO_CLOCK_START" in err
        assert says in err
        assert "serving" not in err


def test_missing_zone_stops_the_daemon_rather_than_using_utc():
    with tempfile.TemporaryDirectory() as tmp:
        err = run_registry(tmp, TZDIR=tmp)
        assert f"cannot load the time zone America/Toronto from {tmp}/America/Toronto" in err
        assert "tzdata" in err


def test_fiscal_year_starting_in_january_is_refused():
    with tempfile.TemporaryDirectory() as tmp:
        err = run_registry(tmp, CONCERTO_FISCAL_YEAR_START_MONTH="1")
        assert "CONCERTO_FISCAL_YEAR_START_MONTH=1: expected an integer from 2 to 12" in err


def test_clock_start_is_logged_with_montreal_date():
    with tempfile.TemporaryDirectory() as tmp:
        d = start_service("registry", tmp, env={"CONCERTO_CLOCK_START": "2026-11-26T03:30:00Z"})
        try:
            d.wait_log("business clock set")
            assert "start=2026-11-26T03:30:00Z today=2026-11-25 zone=America/Toronto" in d.log()
        finally:
            assert d.stop() == 0, d.log()
