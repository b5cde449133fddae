// `market`: V traders (banks) per env, each holding a log-reserve x and choosing a lending rate α;
// the N-player form of the linear-quadratic mean-field game of systemic risk (src/mfg/lin_quad.rs).
//
//     x' = x + (K (m − x) + α) DT + σ √DT ξ        reward = DT/2 (−α² + 2 Q α (m − x) − KAPPA (m − x)²)
//
// where m is the env's mean reserve *now* (the empirical mean of its V traders, computed between
// launches by a reduction on the device), and at the last step −C/2 (m' − x')² with the mean after
// it. Observation: (m − x, t / N).
//
// One file, four launches selected by MODE (one binding list):
//   0 move    — act, reward, move with noise;
//   1 observe — terminal cost at the last step, bookkeeping, observations, flags;
//   2 respawn — fresh reserves for the next episode (or after a reset);
//   3 observe_fresh — observations only, after a respawn.
// Needs grid.wgsl and rng.wgsl before it.

const N_ENVS: u32 = {{n_envs}}u;
const V: u32 = {{traders}}u;
const MODE: u32 = {{mode}}u;
const STEPS: i32 = {{steps}};
const DT: f32 = {{dt}};
const K: f32 = {{mean_revert}};
const SIGMA: f32 = {{volatility}};
const Q: f32 = {{cross_q}};
const KAPPA: f32 = {{kappa}};
const C: f32 = {{terminal_cost}};
const INITIAL_STD: f32 = {{initial_std}};
// Actions beyond ±MAX_RATE are clamped and counted as invalid.
const MAX_RATE: f32 = {{max_rate}};
// 2: (m − x, t / steps); 3: also 1 / (steps − t + 1) (the `time_to_go` option).
const OBS_DIM: u32 = {{obs_dim}}u;
const COMMAND_RESET: i32 = 1;

// [step in episode, episode, seed lo, seed hi, command, 0, 0, 0]
@group(0) @binding(0) var<storage, read_write> clock: array<i32>;
// [envs·V] α
@group(0) @binding(1) var<storage, read_write> actions: array<f32>;
// [envs·V] x
@group(0) @binding(2) var<storage, read_write> reserve: array<f32>;
// [envs] the mean reserve m of each env
@group(0) @binding(3) var<storage, read_write> mean_reserve: array<f32>;
// [envs·V·2]
@group(0) @binding(4) var<storage, read_write> obs: array<f32>;
// [envs·V]
@group(0) @binding(5) var<storage, read_write> reward: array<f32>;
// [envs·V] (return of the running episode, invalid actions)
@group(0) @binding(6) var<storage, read_write> agent_acc: array<vec2<f32>>;
// [2·envs]: done, then truncated
@group(0) @binding(7) var<storage, read_write> flags: array<f32>;

fn move_trader(index: u32, t: i32) {
    let gap = mean_reserve[index / V] - reserve[index];
    let raw = actions[index];
    // NaN fails both comparisons: it is invalid too.
    let valid = raw >= -MAX_RATE && raw <= MAX_RATE;
    let rate = select(0.0, clamp(raw, -MAX_RATE, MAX_RATE), raw == raw);
    let r = 0.5 * DT * (-rate * rate + 2.0 * Q * rate * gap - KAPPA * gap * gap);
    var rng = rng_stream(u32(clock[2]), u32(clock[3]), index, u32(clock[1] * STEPS + t));
    reserve[index] = reserve[index] + (K * gap + rate) * DT + SIGMA * sqrt(DT) * rng_normal(&rng);
    reward[index] = r;
    let acc = agent_acc[index];
    agent_acc[index] = vec2<f32>(select(acc.x + r, r, t == 0), acc.y + select(1.0, 0.0, valid));
}

fn write_obs(index: u32, now: i32) {
    obs[OBS_DIM * index] = mean_reserve[index / V] - reserve[index];
    obs[OBS_DIM * index + 1u] = f32(now) / f32(STEPS);
    if (OBS_DIM == 3u) {
        obs[OBS_DIM * index + 2u] = 1.0 / f32(STEPS - now + 1);
    }
}

fn observe_trader(index: u32, t: i32) {
    let last = t == STEPS - 1;
    if (last) {
        let gap = mean_reserve[index / V] - reserve[index];
        let cost = 0.5 * C * gap * gap;
        reward[index] = reward[index] - cost;
        let acc = agent_acc[index];
        agent_acc[index] = vec2<f32>(acc.x - cost, acc.y);
    }
    write_obs(index, t + 1);
    if (index % V == 0u) {
        flags[index / V] = select(0.0, 1.0, last);
        flags[N_ENVS + index / V] = 0.0;
    }
}

fn respawn_trader(index: u32) {
    // After a reset the clock's episode; at an episode's end, the next one. Episode e's draws:
    // stream (seed, trader, 2³¹ + e), apart from every step's.
    let episode = select(u32(clock[1]) + 1u, u32(clock[1]), clock[4] == COMMAND_RESET);
    var rng = rng_stream(u32(clock[2]), u32(clock[3]), index, 0x80000000u + episode);
    reserve[index] = INITIAL_STD * rng_normal(&rng);
}

@compute @workgroup_size({{workgroup_size}})
fn main(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(local_invocation_id) local_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
) {
    let index = linear_index(workgroup_id, local_id, num_workgroups);
    if (index >= N_ENVS * V) {
        return;
    }
    let t = clock[0];
    if (MODE == 0u) {
        move_trader(index, t);
    } else if (MODE == 1u) {
        observe_trader(index, t);
    } else if (MODE == 2u) {
        respawn_trader(index);
    } else {
        write_obs(index, 0);
    }
}
