#!/usr/bin/env python3
"""Run a command and report the CPU time and peak RSS of *that process alone*.

Usage: measure.py OUT.json -- COMMAND...

CPU is user+system of the process (all its threads, children excluded), read from
/proc/PID/stat after it exited but before it is reaped (waitid WNOWAIT), so it is
final. Children are excluded on purpose: gonogo starts the server it loads, and
`/usr/bin/time` would add the server's CPU to gonogo's. Peak RSS is the kernel's
high-water mark (VmHWM), polled every 50 ms until exit.
"""
import json
import os
import subprocess
import sys
import threading
import time


def main():
    out, sep, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
    assert sep == "--" and cmd, __doc__
    ticks = os.sysconf("SC_CLK_TCK")
    started = time.monotonic()
    proc = subprocess.Popen(cmd)
    hwm = [0]
    done = threading.Event()

    def poll():
        while not done.is_set():
            try:
                with open(f"/proc/{proc.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            hwm[0] = max(hwm[0], int(line.split()[1]))
            except OSError:
                pass
            done.wait(0.05)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
    wall = time.monotonic() - started
    with open(f"/proc/{proc.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After ")": state is fields[0]; utime and stime are stat fields 14 and 15.
    user, system = int(fields[11]) / ticks, int(fields[12]) / ticks
    done.set()
    poller.join()
    code = proc.wait()
    with open(out, "w") as f:
        json.dump({"cpu_s": user + system, "user_s": user, "sys_s": system, "rss_kib": hwm[0], "wall_s": wall, "exit": code}, f)


if __name__ == "__main__":
    main()
