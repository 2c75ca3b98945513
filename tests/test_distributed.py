"""Two processes on loopback (CPU, gloo, 2 devices each) give the single-process results."""

import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from rlfa.devices import DistributedConfig

# Several processes meet through a coordinator: the full suite's, not the inner loop's.
pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WORKER = textwrap.dedent("""
    import sys
    import numpy as np
    import jax
    from rlfa import devices
    pid, port, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    devices.use_all_cpu_cores(2)
    count = devices.initialize(devices.DistributedConfig(
        coordinator_address=f"127.0.0.1:{port}", num_processes=2, process_id=pid, timeout_s=60))
    assert count == 2 and jax.device_count() == 4 and jax.local_device_count() == 2
    import tests.test_runner as t
    res = t._run(t._hp(0.05, 0.1, 0.2), 5)   # 15 runs padded to 16 over 4 devices
    assert res.num_devices == 4
    if devices.is_main_process():
        np.savez(out, w=res.metrics["w"], final=np.asarray(res.final.agent.w),
                 diverged_at=res.diverged_at)
    print("OK", pid)
""")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env():
    return dict(os.environ)  # conftest's deterministic XLA flags included


def test_two_processes_equal_one(tmp_path):
    import tests.test_runner as t

    out, port = tmp_path / "results.npz", str(_free_port())
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(pid), port, str(out)],
                              cwd=ROOT, env=_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for pid in (0, 1)]
    logs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), "\n".join(log[-3000:] for log in logs)
    merged = np.load(out)
    single = t._run(t._hp(0.05, 0.1, 0.2), 5, num_devices=1)
    np.testing.assert_array_equal(merged["w"], single.metrics["w"])
    np.testing.assert_array_equal(merged["final"], np.asarray(single.final.agent.w))
    np.testing.assert_array_equal(merged["diverged_at"], single.diverged_at)


def test_unreachable_coordinator_fails_clearly_within_the_timeout():
    script = textwrap.dedent(f"""
        from rlfa import devices
        devices.initialize(devices.DistributedConfig(
            coordinator_address="127.0.0.1:{_free_port()}", num_processes=2, process_id=1,
            timeout_s=5))
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=_env(),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "could not join the run at coordinator" in out.stderr
    assert "timeout_s=5" in out.stderr


@pytest.mark.parametrize("kwargs, match", [
    ({"num_processes": 2}, "coordinator_address"),
    ({"num_processes": 2, "coordinator_address": "h:1", "process_id": 2}, "process_id=2"),
    ({"timeout_s": 0}, "timeout_s"),
    ({"num_processes": 0}, "num_processes"),
])
def test_bad_distributed_configs(kwargs, match, monkeypatch):
    for var in ("JAX_COORDINATOR_ADDRESS", "RLFA_NUM_PROCESSES", "RLFA_PROCESS_ID"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ValueError, match=match):
        DistributedConfig(**kwargs).resolved()
