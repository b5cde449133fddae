// `battle`: MAgent's Battle game (Zheng et al. 2018; the Mean Field MARL paper's setting), rules
// as tests/data/BATTLE_SPEC.md states them for magent2 0.3.4 and mlii/mfrl.
//
// Two teams of N agents on a W×H grid with border walls. Actions (21): 13 moves within radius 2
// (index 6 is the no-op), 8 attacks on the neighbouring cells. A step, per env and in the
// engine's order: attacks in an order shuffled by the env's minstd_rand0 stream (a killed
// attacker does not attack; a kill frees its cell at once), +0.1 HP recovery for the living,
// moves first-come-first-served in agent order (team 0, then team 1), then the +0.2 rule for
// non-lethal hits on opponents. Rewards: step −0.005, each attack −0.1, kill +5, death
// overwrites the step's reward with −0.1. The episode ends when a team is wiped out or at
// MAX_CYCLES. The resolution is sequential with chain dependencies, so one invocation steps one
// env (MODE 0); observations are one invocation per agent (MODE 1).
//
// Observation per agent (dead agents: zeros): the 13×13 view within radius 6 with channels
// [wall, own team, own team HP/10, opponents, opponents HP/10] (row = dy + 6, column = dx + 6,
// channel-last), then (x/W, y/H), then the own team's mean action of the previous step (21, over
// the agents that acted) — last, so that a learner without the mean field takes a prefix.
// Needs grid.wgsl and rng.wgsl before it.

const N_ENVS: u32 = {{n_envs}}u;
const N: u32 = {{team_size}}u;
const AGENTS: u32 = 2u * N;
const W: i32 = {{map_size}};
const H: i32 = {{map_size}};
const MAX_CYCLES: u32 = {{max_cycles}}u;
const MODE: u32 = {{mode}}u;
const N_ACTIONS: u32 = 21u;
const VIEW: i32 = 13;
const VIEW_CHANNELS: u32 = 5u;
const VIEW_WIDTH: u32 = 845u;
const OBS_DIM: u32 = 868u;
const STATE_WIDTH: u32 = 8u;
const STAT_WIDTH: u32 = 12u;
const COMMAND_STEP: u32 = 0u;
const COMMAND_OBSERVE: u32 = 1u;
const MAX_HP: f32 = 10.0;
const DAMAGE: f32 = 2.0;
const RECOVER: f32 = 0.1;
const STEP_REWARD: f32 = -0.005;
const ATTACK_PENALTY: f32 = -0.1;
const KILL_REWARD: f32 = 5.0;
const DEAD_PENALTY: f32 = -0.1;
const ATTACK_OPPONENT_REWARD: f32 = 0.2;
const OP_NONE: u32 = 0u;
const OP_ATTACK: u32 = 1u;
const OP_KILL: u32 = 2u;

var<private> MOVE_DX: array<i32, 13> = array<i32, 13>(0, -1, 0, 1, -2, -1, 0, 1, 2, -1, 0, 1, 0);
var<private> MOVE_DY: array<i32, 13> = array<i32, 13>(-2, -1, -1, -1, 0, 0, 0, 0, 0, 1, 1, 1, 2);
var<private> ATTACK_DX: array<i32, 8> = array<i32, 8>(-1, 0, 1, -1, 1, -1, 0, 1);
var<private> ATTACK_DY: array<i32, 8> = array<i32, 8>(-1, -1, -1, 0, 0, 1, 1, 1);
// Spawn cells of the left and right formations (generate_map), agent k at index k.
var<private> LEFT_X: array<i32, {{team_size}}> = array<i32, {{team_size}}>({{left_x}});
var<private> LEFT_Y: array<i32, {{team_size}}> = array<i32, {{team_size}}>({{left_y}});
var<private> RIGHT_X: array<i32, {{team_size}}> = array<i32, {{team_size}}>({{right_x}});
var<private> RIGHT_Y: array<i32, {{team_size}}> = array<i32, {{team_size}}>({{right_y}});

// [envs·2N] in 0..21; others are no-ops (counted).
@group(0) @binding(0) var<storage, read_write> actions: array<i32>;
// [envs·2N] (x, y, hp, alive)
@group(0) @binding(1) var<storage, read_write> agents: array<vec4<f32>>;
// [envs·W·H] occupant slot, −1 when empty
@group(0) @binding(2) var<storage, read_write> grid: array<i32>;
// [envs·8] seed lo, seed hi, episode, step, minstd state, command, team 0 on the right, 0
@group(0) @binding(3) var<storage, read_write> state: array<u32>;
// [envs·2·21] each team's mean action of the previous step
@group(0) @binding(4) var<storage, read_write> mean_action: array<f32>;
// [envs·12] running return, running length, episodes, return sum, return² sum, length sum,
// invalid actions, team-0 wins, team-1 wins, draws, team-0 survivors sum, team-1 survivors sum
@group(0) @binding(5) var<storage, read_write> episode_stats: array<f32>;
// [envs·2N·868]
@group(0) @binding(6) var<storage, read_write> obs: array<f32>;
// [envs·2N]
@group(0) @binding(7) var<storage, read_write> reward: array<f32>;
// [2·envs]: done, then truncated
@group(0) @binding(8) var<storage, read_write> flags: array<f32>;

// libstdc++'s minstd_rand0: x ← 16807·x mod (2³¹ − 1), by Schrage's method (no 64-bit ints).
fn minstd_next(x: u32) -> u32 {
    let q = 127773u;
    let r = 2836u;
    let hi = x / q;
    let lo = x % q;
    let a = 16807u * lo;
    let b = r * hi;
    if (a >= b) {
        return a - b;
    }
    return a + 2147483647u - b;
}

fn cell(env: u32, x: i32, y: i32) -> u32 {
    return env * u32(W * H) + u32(y * W + x);
}

fn is_wall(x: i32, y: i32) -> bool {
    return x == 0 || y == 0 || x == W - 1 || y == H - 1;
}

// Fresh formations for the env's current episode; which team starts left is a coin flip.
fn spawn(env: u32) {
    let s = env * STATE_WIDTH;
    var rng = rng_stream(state[s], state[s + 1u], env, state[s + 2u]);
    let bits = rng_next4(&rng);
    state[s + 3u] = 0u;
    state[s + 4u] = bits.y % 2147483646u + 1u;
    state[s + 6u] = bits.x & 1u;
    for (var c = 0u; c < u32(W * H); c++) {
        grid[env * u32(W * H) + c] = -1;
    }
    for (var k = 0u; k < N; k++) {
        for (var team = 0u; team < 2u; team++) {
            let right = (team == 1u) != (state[s + 6u] == 1u);
            let x = select(LEFT_X[k], RIGHT_X[k], right);
            let y = select(LEFT_Y[k], RIGHT_Y[k], right);
            let slot = team * N + k;
            agents[env * AGENTS + slot] = vec4<f32>(f32(x), f32(y), MAX_HP, 1.0);
            grid[cell(env, x, y)] = i32(slot);
        }
    }
    for (var i = 0u; i < 2u * N_ACTIONS; i++) {
        mean_action[env * 2u * N_ACTIONS + i] = 0.0;
    }
}

fn step_env(env: u32) {
    let s = env * STATE_WIDTH;
    let base = env * AGENTS;
    var next_reward: array<f32, {{agents}}>;
    var last_op: array<u32, {{agents}}>;
    var op_team: array<u32, {{agents}}>;
    var acted: array<bool, {{agents}}>;
    var attack_slot: array<u32, {{agents}}>;
    var attack_dir: array<u32, {{agents}}>;
    var n_attacks = 0u;
    var team_actions: array<f32, 42>;
    var team_acted = vec2<f32>(0.0, 0.0);
    // Decode actions of the agents alive at the start of the step; attacks join the buffer in
    // list order (team 0 by index, then team 1).
    for (var slot = 0u; slot < AGENTS; slot++) {
        next_reward[slot] = 0.0;
        last_op[slot] = OP_NONE;
        acted[slot] = agents[base + slot].w > 0.5;
        if (!acted[slot]) {
            continue;
        }
        next_reward[slot] = STEP_REWARD;
        var a = actions[base + slot];
        if (a < 0 || a >= i32(N_ACTIONS)) {
            episode_stats[env * STAT_WIDTH + 6u] += 1.0;
            a = 6;
        }
        let team = slot / N;
        team_actions[team * N_ACTIONS + u32(a)] += 1.0;
        team_acted[team] += 1.0;
        if (a >= 13) {
            attack_slot[n_attacks] = slot;
            attack_dir[n_attacks] = u32(a - 13);
            n_attacks++;
        }
    }
    // (a) Shuffle the attack buffer: j = rng() % (i + 1), one draw per entry.
    var x = state[s + 4u];
    for (var i = 0u; i < n_attacks; i++) {
        x = minstd_next(x);
        let j = x % (i + 1u);
        let slot_i = attack_slot[i];
        let dir_i = attack_dir[i];
        attack_slot[i] = attack_slot[j];
        attack_dir[i] = attack_dir[j];
        attack_slot[j] = slot_i;
        attack_dir[j] = dir_i;
    }
    state[s + 4u] = x;
    // (b) Attacks, sequentially in shuffled order.
    for (var i = 0u; i < n_attacks; i++) {
        let slot = attack_slot[i];
        let me = agents[base + slot];
        if (me.w < 0.5) {
            continue;
        }
        let tx = i32(me.x) + ATTACK_DX[attack_dir[i]];
        let ty = i32(me.y) + ATTACK_DY[attack_dir[i]];
        var occupant_slot = -1;
        if (tx >= 0 && ty >= 0 && tx < W && ty < H) {
            occupant_slot = grid[cell(env, tx, ty)];
        }
        if (occupant_slot < 0 || u32(occupant_slot) / N == slot / N) {
            next_reward[slot] += ATTACK_PENALTY;
            continue;
        }
        var victim = agents[base + u32(occupant_slot)];
        victim.z -= DAMAGE;
        var gained = 0.0;
        if (victim.z < 0.0) {
            victim.w = 0.0;
            grid[cell(env, tx, ty)] = -1;
            next_reward[u32(occupant_slot)] = DEAD_PENALTY;
            last_op[slot] = OP_KILL;
            gained = KILL_REWARD;
        } else {
            last_op[slot] = OP_ATTACK;
            op_team[slot] = u32(occupant_slot) / N;
        }
        agents[base + u32(occupant_slot)] = victim;
        next_reward[slot] += gained + ATTACK_PENALTY;
    }
    // (c) Recovery of the living.
    for (var slot = 0u; slot < AGENTS; slot++) {
        var me = agents[base + slot];
        if (me.w > 0.5) {
            me.z = min(MAX_HP, me.z + RECOVER);
            agents[base + slot] = me;
        }
    }
    // (d) Moves in list order, first come first served; jumps over occupied cells are allowed.
    for (var slot = 0u; slot < AGENTS; slot++) {
        var me = agents[base + slot];
        let a = actions[base + slot];
        if (me.w < 0.5 || !acted[slot] || a < 0 || a >= 13) {
            continue;
        }
        let ox = i32(me.x);
        let oy = i32(me.y);
        let nx = ox + MOVE_DX[a];
        let ny = oy + MOVE_DY[a];
        if (nx < 0 || ny < 0 || nx + 1 >= W || ny + 1 >= H || is_wall(nx, ny)) {
            continue;
        }
        let occupant = grid[cell(env, nx, ny)];
        if (occupant >= 0 && u32(occupant) != slot) {
            continue;
        }
        grid[cell(env, ox, oy)] = -1;
        grid[cell(env, nx, ny)] = i32(slot);
        me.x = f32(nx);
        me.y = f32(ny);
        agents[base + slot] = me;
    }
    // (e) +0.2 for every non-lethal hit on an opponent (applied after deaths: not overwritten).
    var alive = vec2<u32>(0u, 0u);
    var step_sum = 0.0;
    for (var slot = 0u; slot < AGENTS; slot++) {
        if (last_op[slot] == OP_ATTACK && op_team[slot] != slot / N) {
            next_reward[slot] += ATTACK_OPPONENT_REWARD;
        }
        reward[base + slot] = next_reward[slot];
        step_sum += next_reward[slot];
        if (agents[base + slot].w > 0.5) {
            alive[slot / N] += 1u;
        }
    }
    for (var team = 0u; team < 2u; team++) {
        for (var a = 0u; a < N_ACTIONS; a++) {
            mean_action[(env * 2u + team) * N_ACTIONS + a] = team_actions[team * N_ACTIONS + a] / max(team_acted[team], 1.0);
        }
    }
    // (f) Game over, time limit, bookkeeping.
    state[s + 3u] += 1u;
    let wiped = alive.x == 0u || alive.y == 0u;
    let timeout = state[s + 3u] >= MAX_CYCLES;
    let ended = wiped || timeout;
    let st = env * STAT_WIDTH;
    episode_stats[st] += step_sum / f32(AGENTS);
    episode_stats[st + 1u] += 1.0;
    flags[env] = select(0.0, 1.0, ended);
    flags[N_ENVS + env] = select(0.0, 1.0, timeout && !wiped);
    if (ended) {
        let episode_return = episode_stats[st];
        episode_stats[st + 2u] += 1.0;
        episode_stats[st + 3u] += episode_return;
        episode_stats[st + 4u] += episode_return * episode_return;
        episode_stats[st + 5u] += episode_stats[st + 1u];
        // The team with more survivors has made more kills (equal teams): it wins.
        episode_stats[st + 7u] += select(0.0, 1.0, alive.x > alive.y);
        episode_stats[st + 8u] += select(0.0, 1.0, alive.y > alive.x);
        episode_stats[st + 9u] += select(0.0, 1.0, alive.x == alive.y);
        episode_stats[st + 10u] += f32(alive.x);
        episode_stats[st + 11u] += f32(alive.y);
        episode_stats[st] = 0.0;
        episode_stats[st + 1u] = 0.0;
        state[s + 2u] += 1u;
        spawn(env);
    }
}

fn observe_agent(index: u32) {
    let env = index / AGENTS;
    let slot = index % AGENTS;
    let out = index * OBS_DIM;
    let me = agents[index];
    if (me.w < 0.5) {
        for (var i = 0u; i < OBS_DIM; i++) {
            obs[out + i] = 0.0;
        }
        return;
    }
    let team = slot / N;
    let x0 = i32(me.x);
    let y0 = i32(me.y);
    for (var row = 0; row < VIEW; row++) {
        for (var col = 0; col < VIEW; col++) {
            let dx = col - 6;
            let dy = row - 6;
            let o = out + u32(row * VIEW + col) * VIEW_CHANNELS;
            let x = x0 + dx;
            let y = y0 + dy;
            var channels = array<f32, 5>(0.0, 0.0, 0.0, 0.0, 0.0);
            // Off-map cells read 0 in every channel, walls included.
            if (dx * dx + dy * dy <= 36 && x >= 0 && y >= 0 && x < W && y < H) {
                channels[0] = select(0.0, 1.0, is_wall(x, y));
                let occupant = grid[cell(env, x, y)];
                if (occupant >= 0) {
                    let other = agents[env * AGENTS + u32(occupant)];
                    let c = select(3u, 1u, u32(occupant) / N == team);
                    channels[c] = 1.0;
                    channels[c + 1u] = other.z / MAX_HP;
                }
            }
            for (var c = 0u; c < VIEW_CHANNELS; c++) {
                obs[o + c] = channels[c];
            }
        }
    }
    obs[out + VIEW_WIDTH] = me.x / f32(W);
    obs[out + VIEW_WIDTH + 1u] = me.y / f32(H);
    for (var a = 0u; a < N_ACTIONS; a++) {
        obs[out + VIEW_WIDTH + 2u + a] = mean_action[(env * 2u + team) * N_ACTIONS + a];
    }
}

@compute @workgroup_size({{workgroup_size}})
fn main(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(local_invocation_id) local_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
) {
    let index = linear_index(workgroup_id, local_id, num_workgroups);
    if (MODE == 0u) {
        if (index >= N_ENVS) {
            return;
        }
        let s = index * STATE_WIDTH;
        let command = state[s + 5u];
        state[s + 5u] = COMMAND_STEP;
        if (command == COMMAND_OBSERVE) {
            if (state[s + 4u] == 0u) {
                spawn(index);
            }
            for (var slot = 0u; slot < AGENTS; slot++) {
                reward[index * AGENTS + slot] = 0.0;
            }
            flags[index] = 0.0;
            flags[N_ENVS + index] = 0.0;
        } else {
            step_env(index);
        }
    } else {
        if (index >= N_ENVS * AGENTS) {
            return;
        }
        observe_agent(index);
    }
}
