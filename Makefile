# The two commands of the README. Both make sure a Vulkan driver exists first (on a machine
# without a GPU: Mesa's software driver, installed by .ci/ensure-vulkan when missing).
CARGO ?= cargo
export XDG_RUNTIME_DIR ?= /tmp/shoal-xdg-runtime
# `make train`'s run, wherever it runs.
TRAIN_RUN = train --env simple-spread --algo mappo --out runs/mappo-$$(date +%Y%m%d-%H%M%S)

.PHONY: train train-mesa26 bench bench-peers bench-jaxmarl test test-python vulkan gpu-check

## The main job on its default configuration: MAPPO on simple_spread (N=3), 2M env steps,
## metrics, learning curve and checkpoints in a new runs/mappo-<time>/ (shoal train never
## overwrites a run: continue one with `shoal train --resume DIR`).
train: vulkan
	$(CARGO) run --release -- $(TRAIN_RUN)

## The same run on lavapipe from Mesa 26, for a machine without a GPU whose Debian ships an older
## Mesa (Debian 12 stops at 25.0): ≈2.5× faster. As root; .ci/mesa-chroot keeps a minimal Debian
## 13 chroot with trixie-backports' Mesa in /var/cache and runs the host-built binary in it.
train-mesa26:
	$(CARGO) build --release
	.ci/mesa-chroot shoal $(TRAIN_RUN)

## simple_spread throughput from 1 to 65,536 envs.
bench: vulkan
	$(CARGO) run --release -- bench --env simple-spread --envs 1,64,1024,16384,65536 --steps 200

## shoal beside JaxMARL, VMAS and mpe2 on this machine, in one run (a pinned Python venv is
## created on first use): OUT/peers.json and the table OUT/peers.md (.ci/bench-peers).
bench-peers: vulkan
	.ci/bench-peers

## JaxMARL's own baseline scripts (VDN, IPPO, MAPPO) on simple_spread at 2M env steps, 3 seeds,
## with their configurations: rows and per-seed metrics.csv in OUT (.ci/bench-jaxmarl).
bench-jaxmarl:
	.ci/bench-jaxmarl

## Run every test (release build: burn is slow to build twice, and GPU tests run faster): the
## Rust suites, then the Python package's (PettingZoo's API tests, mpe2 live; .ci/python-tests).
test: vulkan
	$(CARGO) test --release
	.ci/python-tests

## The Python package alone: installs it (`pip install ./python`) into a pinned venv and runs pytest.
test-python: vulkan
	.ci/python-tests

## On a lent GPU: simple_spread up to 1M envs, the swarm at 10^6 agents and the default MAPPO
## run, as JSON and a Markdown table for BENCHMARKS.md (.ci/gpu-check; under 8 minutes).
gpu-check: vulkan
	$(CARGO) build --release
	.ci/gpu-check

vulkan:
	@mkdir -p $(XDG_RUNTIME_DIR)
	@.ci/ensure-vulkan
