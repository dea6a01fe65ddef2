"""contrib/tocsin.service passes `systemd-analyze verify` (where systemd is installed) and
starts the command the README names."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[1] / "contrib" / "tocsin.service"
INSTALLED = "/opt/tocsin/bin/tocsin"


def test_the_unit_runs_tocsin_run_and_reloads_with_sighup() -> None:
    lines = UNIT.read_text().splitlines()
    assert f"ExecStart={INSTALLED} run" in lines
    assert "ExecReload=/bin/kill -HUP $MAINPID" in lines
    assert "Environment=TOCSIN_CONFIG=/etc/tocsin/tocsin.yaml" in lines


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    # verify checks that ExecStart's program exists: point it at this Tocsin's script.
    script = Path(sys.executable).parent / "tocsin"
    assert script.exists()
    unit = tmp_path / "tocsin.service"
    unit.write_text(UNIT.read_text().replace(INSTALLED, str(script)))
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
