# The two commands of the README. Both make sure a Vulkan driver exists first (on a machine
# without a GPU: Mesa's software driver, installed by .ci/ensure-vulkan when missing).
CARGO ?= cargo
export XDG_RUNTIME_DIR ?= /tmp/shoal-xdg-runtime

.PHONY: train bench test vulkan

## The main job on its default configuration: MAPPO on simple_spread (N=3), 2M env steps,
## metrics, learning curve and checkpoints in runs/mappo/.
train: vulkan
	$(CARGO) run --release -- train --env simple-spread --algo mappo --out runs/mappo

## simple_spread throughput from 1 to 65,536 envs.
bench: vulkan
	$(CARGO) run --release -- bench --env simple-spread --envs 1,64,1024,16384,65536 --steps 200

## Run every test (release build: burn is slow to build twice, and GPU tests run faster).
test: vulkan
	$(CARGO) test --release

vulkan:
	@mkdir -p $(XDG_RUNTIME_DIR)
	@.ci/ensure-vulkan
