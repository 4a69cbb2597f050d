"""A small process that starts the measured commands, so their peak memory is their own.

On Linux a child's ru_maxrss starts from its parent's resident size at fork time (exec keeps the larger of the two),
so commands started by run.py itself, once it holds a corpus and numpy, would all report at least run.py's size.
run.py starts this process first, while it is still small, and hands it one command per line (JSON); it answers with
the wall time, CPU time, exit status and wait4's ru_maxrss of that command alone.
"""

import json
import os
import subprocess
import sys
import time

for line in sys.stdin:
    job = json.loads(line)
    with open(job["stdout"], "wb") as out, open(job["stderr"], "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(
            job["args"], stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=job["env"], cwd=job["cwd"]
        )
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    print(json.dumps({"wall": wall, "cpu": cpu, "maxrss_kb": usage.ru_maxrss, "returncode": p.returncode}), flush=True)
