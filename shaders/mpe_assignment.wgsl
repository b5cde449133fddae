// Minimum-cost assignment of the N agents to N target points, as mpe2's simple_line and
// simple_formation compute it with scipy.optimize.linear_sum_assignment on the matrix of
// Euclidean distances: the Hungarian method in its O(N³) potentials form, in private memory.
// Every loop is bounded (a NaN cost cannot hang the kernel: the search stops after N + 1 rounds).
//
// Needs N (agents) and World from mpe_batch.wgsl, and the scenario's `formation_slots(world)`.

// mpe2's `terminate_on_success` (off by default).
const TERMINATE_ON_SUCCESS: bool = {{terminate_on_success}};
// Scenario.DIST_THRESHOLD: success is every agent this close to its slot.
const SUCCESS_DISTANCE: f32 = 0.05;

const ASSIGN_N1: u32 = N + 1u;

// Per agent, the distance to the target the optimal assignment gives it.
fn assigned_distances(agent_pos: array<vec2<f32>, N>, slot: array<vec2<f32>, N>) -> array<f32, N> {
    var cost: array<array<f32, N>, N>;
    for (var i = 0u; i < N; i++) {
        for (var j = 0u; j < N; j++) {
            cost[i][j] = distance(agent_pos[i], slot[j]);
        }
    }
    // 1-based rows and columns; column 0 is the search's virtual start. `owner[j]` is the row
    // assigned to column j (0: none yet).
    var u: array<f32, ASSIGN_N1>;
    var v: array<f32, ASSIGN_N1>;
    var owner: array<u32, ASSIGN_N1>;
    var way: array<u32, ASSIGN_N1>;
    for (var row = 1u; row <= N; row++) {
        owner[0] = row;
        var j0 = 0u;
        var min_slack: array<f32, ASSIGN_N1>;
        var used: array<bool, ASSIGN_N1>;
        for (var j = 0u; j <= N; j++) {
            min_slack[j] = 3.4e38;
            used[j] = false;
        }
        for (var round = 0u; round <= N; round++) {
            used[j0] = true;
            let i0 = owner[j0];
            var delta = 3.4e38;
            var j1 = 0u;
            for (var j = 1u; j <= N; j++) {
                if (!used[j]) {
                    let slack = cost[i0 - 1u][j - 1u] - u[i0] - v[j];
                    if (slack < min_slack[j]) {
                        min_slack[j] = slack;
                        way[j] = j0;
                    }
                    if (min_slack[j] < delta) {
                        delta = min_slack[j];
                        j1 = j;
                    }
                }
            }
            for (var j = 0u; j <= N; j++) {
                if (used[j]) {
                    u[owner[j]] += delta;
                    v[j] -= delta;
                } else {
                    min_slack[j] -= delta;
                }
            }
            j0 = j1;
            if (owner[j0] == 0u) {
                break;
            }
        }
        // Flip the augmenting path back to the start.
        for (var round = 0u; round <= N; round++) {
            let j1 = way[j0];
            owner[j0] = owner[j1];
            j0 = j1;
            if (j0 == 0u) {
                break;
            }
        }
    }
    var assigned: array<f32, N>;
    for (var j = 1u; j <= N; j++) {
        let i = owner[j] - 1u;
        assigned[i] = cost[i][j - 1u];
    }
    return assigned;
}

// Scenario.global_reward (local_ratio 0), mpe2's shared formation reward: −mean(clip(d, 0, 2))
// over the distances of the optimal assignment to the scenario's `formation_slots`, written for
// every agent of `env` and returned.
fn write_rewards(env: u32, world: World) -> f32 {
    let d = assigned_distances(world.agent_pos, formation_slots(world));
    var total = 0.0;
    for (var i = 0u; i < N; i++) {
        total += clamp(d[i], 0.0, 2.0);
    }
    let r = -total / f32(N);
    for (var i = 0u; i < N; i++) {
        reward[env * N + i] = r;
    }
    return r;
}

// Scenario.is_terminal: with terminate_on_success, every assigned distance under 0.05.
fn is_terminal(world: World) -> bool {
    if (!TERMINATE_ON_SUCCESS) {
        return false;
    }
    let d = assigned_distances(world.agent_pos, formation_slots(world));
    var all_placed = true;
    for (var i = 0u; i < N; i++) {
        all_placed = all_placed && d[i] < SUCCESS_DISTANCE;
    }
    return all_placed;
}
