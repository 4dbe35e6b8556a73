#!/usr/bin/env python3
"""Per completed Spark stage of an event-log folder (bench_day.py writes them under
HOME/spark-events/<run>/): job description, plan operators, wall s, tasks, summed task run
time and CPU time, shuffle written, GC and spill; then task time per job description.
Concurrent AQE stages share the 2 cores, so summed task time says more than stage wall
time. Usage: spark_stage_cost.py EVENT_DIR [MIN_TASK_SECONDS]"""

import json
import sys
from collections import Counter
from pathlib import Path

from spark_events import completed_stages

rows = []
for i, job in completed_stages(Path(sys.argv[1])):
    acc = {a["Name"]: a.get("Value") for a in i.get("Accumulables", [])}
    run = float(acc.get("internal.metrics.executorRunTime", 0) or 0) / 1000
    cpu = float(acc.get("internal.metrics.executorCpuTime", 0) or 0) / 1e9
    gc = float(acc.get("internal.metrics.jvmGCTime", 0) or 0) / 1000
    spill = float(acc.get("internal.metrics.diskBytesSpilled", 0) or 0) / 2**20
    sw = float(acc.get("internal.metrics.shuffle.write.bytesWritten", 0) or 0) / 2**20
    ops = Counter()
    for r in i["RDD Info"]:
        if r.get("Scope"):
            n = json.loads(r["Scope"])["name"]
            if not n.startswith("WholeStageCodegen") and n not in (
                "mapPartitionsInternal",
                "Project",
            ):
                ops[n.strip()] += 1
    rows.append(
        (
            i["Submission Time"] / 1000,
            i["Stage ID"],
            job,
            ",".join(ops),
            (i["Completion Time"] - i["Submission Time"]) / 1000,
            i["Number of Tasks"],
            run,
            cpu,
            sw,
            gc,
            spill,
        )
    )
min_run = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
t0 = rows[0][0] if rows else 0
tot = {}
for r in sorted(rows):
    a, c = tot.get(r[2], (0, 0))
    tot[r[2]] = (a + r[6], c + r[7])
    if r[6] >= min_run:
        print(
            f"{r[0] - t0:7.1f} #{r[1]:<4} {r[2][:48]:48s} {r[3][:60]:60s} wall {r[4]:6.1f} tasks {r[5]:3d} run {r[6]:6.1f} cpu {r[7]:6.1f} shufW {r[8]:5.0f}MiB gc {r[9]:5.1f} spill {r[10]:5.0f}MiB"
        )
print("task run time / CPU time by job description:")
for k, v in sorted(tot.items(), key=lambda kv: -kv[1][0]):
    print(f"  run {v[0]:7.1f} s  cpu {v[1]:6.1f} s  {k}")
