"""Merges `shoal bench --json` rows with the peers' rows (step.py) into one JSON list and a
Markdown table with the ratios, dated and labelled with the CPU, for BENCHMARKS.md.

    python report.py --shoal shoal.json --peers jaxmarl.json vmas.json mpe2.json --out DIR \
        [--shoal-train run/metrics.csv --peer-train jaxmarl_mappo.json]
"""
import argparse
import csv
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


def training_rows(metrics_path, peer_path, version, cpu):
    """`shoal train`'s metrics.csv and train.py's row as two rows of one workload, and the lines
    of their table. shoal's time is its whole run (the first update compiles its kernels);
    JaxMARL's compilation is reported apart, as train.py measures it."""
    metrics = list(csv.DictReader(open(metrics_path)))
    tail = metrics[-max(1, len(metrics) // 10):]
    seconds, steps = float(metrics[-1]["wall_seconds"]), int(metrics[-1]["env_steps"])
    shoal = {
        "workload": "mappo_simple_spread_train", "system": "shoal", "version": version,
        "envs": 512, "env_steps": steps, "seconds": seconds, "env_steps_per_s": steps / seconds,
        "first_update_seconds": float(metrics[0]["wall_seconds"]),
        "final_return": sum(float(m["mean_episode_return"]) for m in tail) / len(tail),
        "cpu": cpu, "adapter": None,
    }
    peer = json.load(open(peer_path))[0]
    lines = [
        "",
        "MAPPO, simple_spread N=3, shoal's default configuration (512 envs × 25 steps, 4 × 4 minibatches), same machine:",
        "",
        "| system | env steps | seconds | compile (s) | env-steps/s | final return | shoal / system (speed) |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| shoal | {steps:,} | {seconds:.1f} | (in the first update: {shoal['first_update_seconds']:.1f}) | "
        f"{shoal['env_steps_per_s']:,.0f} | {shoal['final_return']:.2f} | |",
        f"| JaxMARL env + train.py | {peer['env_steps']:,} | {peer['seconds']:.1f} | {peer['compile_seconds']:.1f} | "
        f"{peer['env_steps_per_s']:,.0f} | {peer['final_return']:.2f} | "
        f"**{shoal['env_steps_per_s'] / peer['env_steps_per_s']:.3f}×** |",
        "",
        "Returns: mean over agents of one agent's episode return, last 10% of updates "
        "(JaxMARL 0.2.0's episodes run 26 steps, shoal's and mpe2's 25).",
    ]
    return [shoal, peer], lines


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shoal", required=True)
    p.add_argument("--shoal-version", default="shoal")
    p.add_argument("--peers", nargs="+", required=True)
    p.add_argument("--shoal-train", help="shoal train's metrics.csv")
    p.add_argument("--peer-train", help="benches/peers/train.py's row")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    peers = [r for path in args.peers if os.path.exists(path) for r in json.load(open(path))]
    cpu = next((r["cpu"] for r in peers if r.get("cpu")), "unknown CPU")
    rows = shoal_rows(args.shoal, args.shoal_version)
    for r in rows:
        r["cpu"] = cpu
    rows += peers
    train_lines = []
    if args.shoal_train and args.peer_train:
        train_rows, train_lines = training_rows(args.shoal_train, args.peer_train, args.shoal_version, cpu)
        rows += train_rows
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "peers.json"), "w") as f:
        json.dump(rows, f, indent=1)

    stepping = [r for r in rows if r["workload"] == "simple_spread_step"]
    rate = {(r["system"], r["envs"]): r["env_steps_per_s"] for r in stepping}
    version = {r["system"]: r["version"] for r in stepping}
    envs = sorted({r["envs"] for r in stepping})

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
    lines += python_lines(rate, version, envs)
    lines += train_lines
    table = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "peers.md"), "w") as f:
        f.write(table)
    print(table)


def python_lines(rate, version, envs):
    """The second table, when the run measured shoal from Python (`pip install ./python`): the
    batched numpy API per step and the on-device rollout beside the peers (which are Python
    too), and the PettingZoo face beside mpe2 at one env."""
    systems = ("shoal-python", "shoal-rollout", "shoal-pettingzoo")
    if not any(sys == s for s in systems for (sys, _) in rate):
        return []

    def fmt(v):
        return "–" if v is None else (f"{v / 1e6:.2f} M" if v >= 1e6 else f"{v / 1e3:.1f} k")

    lines = [
        "",
        "From Python, same run: shoal's batched API with numpy actions and results every step "
        "(`VectorEnv.step`), its on-device rollout (`VectorEnv.rollout`), its PettingZoo face (one env)",
        "",
        "| envs | shoal, numpy per step | shoal, on-device rollout | JaxMARL | VMAS | shoal PettingZoo | mpe2 |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in envs:
        cells = [rate.get((sys, n)) for sys in ("shoal-python", "shoal-rollout", "jaxmarl", "vmas", "shoal-pettingzoo", "mpe2")]
        lines.append(f"| {n:,} | " + " | ".join(fmt(c) for c in cells) + " |")
    lines.append("")
    lines += [f"- {sys}: {version[sys]}" for sys in systems if sys in version]
    return lines


if __name__ == "__main__":
    main()
