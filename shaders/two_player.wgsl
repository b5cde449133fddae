// The binding contract and episode bookkeeping shared by shoal's two-player zero-sum games
// (matrix_game.wgsl, kuhn_poker.wgsl). One invocation steps one env: the games are tiny, so the
// batch is the parallelism.
//
// State per env (u32 words): seed_lo, seed_hi, episode, command, then game words. `command` is
// OBSERVE right after a reset or restore (write observations, consume no actions) and STEP
// otherwise. Statistics per env (f32): running seat-0 return, running length, episodes, return
// sum, return² sum, length sum, invalid actions — the rows `EpisodeStats::from_sums` reads.
// Needs grid.wgsl and rng.wgsl before it; the game file defines N_ENVS, OBS_DIM, N_ACTIONS.

const STATE_WIDTH: u32 = 8u;
const STAT_WIDTH: u32 = 7u;
const COMMAND_STEP: u32 = 0u;
const COMMAND_OBSERVE: u32 = 1u;

@group(0) @binding(0) var<storage, read_write> actions: array<i32>;
@group(0) @binding(1) var<storage, read_write> state: array<u32>;
@group(0) @binding(2) var<storage, read_write> episode_stats: array<f32>;
@group(0) @binding(3) var<storage, read_write> obs: array<f32>;
@group(0) @binding(4) var<storage, read_write> legal: array<f32>;
@group(0) @binding(5) var<storage, read_write> reward: array<f32>;
@group(0) @binding(6) var<storage, read_write> done: array<f32>;
@group(0) @binding(7) var<storage, read_write> truncated: array<f32>;

// One-hot observation `index` for `seat`, and its legal-action mask (`n_legal` first actions).
fn write_seat(env: u32, seat: u32, index: u32, n_legal: u32) {
    let obs_base = (env * 2u + seat) * OBS_DIM;
    for (var i = 0u; i < OBS_DIM; i++) {
        obs[obs_base + i] = select(0.0, 1.0, i == index);
    }
    let legal_base = (env * 2u + seat) * N_ACTIONS;
    for (var a = 0u; a < N_ACTIONS; a++) {
        legal[legal_base + a] = select(0.0, 1.0, a < n_legal);
    }
}

// Seat `seat`'s action, or 0 (counted as invalid) when outside its `n_legal` legal actions.
fn checked_action(env: u32, seat: u32, n_legal: u32) -> u32 {
    let a = actions[env * 2u + seat];
    if (a < 0 || u32(a) >= n_legal) {
        episode_stats[env * STAT_WIDTH + 6u] += 1.0;
        return 0u;
    }
    return u32(a);
}

// Books a finished step: rewards (seat 0 gets `payoff`, seat 1 its negation) and, when the
// episode ended, its return and length; advances the episode counter.
fn finish_step(env: u32, payoff: f32, ended: bool) {
    reward[env * 2u] = payoff;
    reward[env * 2u + 1u] = -payoff;
    truncated[env] = 0.0;
    let s = env * STAT_WIDTH;
    episode_stats[s] += payoff;
    episode_stats[s + 1u] += 1.0;
    if (ended) {
        let episode_return = episode_stats[s];
        episode_stats[s + 2u] += 1.0;
        episode_stats[s + 3u] += episode_return;
        episode_stats[s + 4u] += episode_return * episode_return;
        episode_stats[s + 5u] += episode_stats[s + 1u];
        episode_stats[s] = 0.0;
        episode_stats[s + 1u] = 0.0;
        state[env * STATE_WIDTH + 2u] += 1u;
    }
    done[env] = select(0.0, 1.0, ended);
}

// The env's RNG stream for its current episode.
fn episode_rng(env: u32) -> Rng {
    let s = env * STATE_WIDTH;
    return rng_stream(state[s], state[s + 1u], env, state[s + 2u]);
}

@compute @workgroup_size({{workgroup_size}})
fn main(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(local_invocation_id) local_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
) {
    let env = linear_index(workgroup_id, local_id, num_workgroups);
    if (env >= N_ENVS) {
        return;
    }
    let command = state[env * STATE_WIDTH + 3u];
    state[env * STATE_WIDTH + 3u] = COMMAND_STEP;
    if (command == COMMAND_OBSERVE) {
        reward[env * 2u] = 0.0;
        reward[env * 2u + 1u] = 0.0;
        done[env] = 0.0;
        truncated[env] = 0.0;
    } else {
        game_step(env);
    }
    game_observe(env);
}
