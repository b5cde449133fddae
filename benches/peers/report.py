"""Merges `shoal bench --json` rows with the peers' rows (step.py) into one JSON list and a
Markdown table with the ratios, dated and labelled with the CPU, for BENCHMARKS.md.

    python report.py --shoal shoal.json --peers jaxmarl.json vmas.json mpe2.json --out DIR
"""
import argparse
import datetime
import json
import os


def shoal_rows(path, version):
    rows = []
    for r in json.load(open(path)):
        rows.append({
            "workload": "simple_spread_step", "system": "shoal", "version": version,
            "envs": r["envs"], "steps": r["steps"], "seconds": r["seconds"],
            "env_steps_per_s": r["env_steps_per_s"], "cpu": None, "adapter": r["adapter"],
        })
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shoal", required=True)
    p.add_argument("--shoal-version", default="shoal")
    p.add_argument("--peers", nargs="+", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    peers = [r for path in args.peers if os.path.exists(path) for r in json.load(open(path))]
    cpu = next((r["cpu"] for r in peers if r.get("cpu")), "unknown CPU")
    rows = shoal_rows(args.shoal, args.shoal_version)
    for r in rows:
        r["cpu"] = cpu
    rows += peers
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "peers.json"), "w") as f:
        json.dump(rows, f, indent=1)

    rate = {(r["system"], r["envs"]): r["env_steps_per_s"] for r in rows}
    version = {r["system"]: r["version"] for r in rows}
    envs = sorted({r["envs"] for r in rows})

    def fmt(v):
        return "–" if v is None else (f"{v / 1e6:.2f} M" if v >= 1e6 else f"{v / 1e3:.1f} k")

    def ratio(a, b):
        return "–" if a is None or b is None else f"**{a / b:.1f}×**"

    lines = [
        f"simple_spread N=3, random actions, env-steps/s — {datetime.date.today()}, {cpu}, "
        f"{os.cpu_count()} cores, one run, every system alone in turn",
        "",
        "| envs | shoal | JaxMARL | VMAS | mpe2 | shoal / JaxMARL | shoal / VMAS | shoal / mpe2 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in envs:
        s, j, v, m = (rate.get((sys, n)) for sys in ("shoal", "jaxmarl", "vmas", "mpe2"))
        lines.append(f"| {n:,} | {fmt(s)} | {fmt(j)} | {fmt(v)} | {fmt(m)} | {ratio(s, j)} | {ratio(s, v)} | {ratio(s, m)} |")
    lines.append("")
    lines += [f"- {sys}: {version[sys]}" for sys in ("shoal", "jaxmarl", "vmas", "mpe2") if sys in version]
    table = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "peers.md"), "w") as f:
        f.write(table)
    print(table)


if __name__ == "__main__":
    main()
