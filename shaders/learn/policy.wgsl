// The rollout's policy step in one launch: actor MLP, action sampling, log-probability and the
// critic's value for every agent of every env.
//
// Written with tensor ops the same step was ~40 launches (three linear layers and two tanh per
// network, log-softmax, Gumbel noise, argmax, gather, entropy), each a pass over the whole batch.
// Here one workgroup takes ROWS_PER_GROUP agent rows and one thread per hidden unit: thread `o`
// computes unit `o` of every row of its group, so the weights `W[i, o]` its neighbours read are
// adjacent (one vector load on a SIMD CPU, one coalesced load on a GPU) and each is reused for
// all rows, while the rows' activations sit in workgroup memory. (A first version with one
// invocation per row kept the activations in private arrays; lavapipe turned every dynamic index
// into a gather and ran it at ~0.15 GFLOP/s.)
//
// The parameters are the burn modules' own tensors packed into one buffer once per update
// (src/train/policy_kernel.rs gives the layout): tanh MLPs with LAYERS hidden layers of width
// HIDDEN, weights [d_in, d_out] row-major with the bias after them. Sampling uses the same
// uniforms and formulas as `ActorCritic::act` (Gumbel-max for categorical heads, Box–Muller for
// Gaussian ones), so both paths pick the same actions.

const ROWS: u32 = {{rows}}u;
const ROWS_PER_GROUP: u32 = {{rows_per_group}}u;
const ACTOR_IN: u32 = {{actor_in}}u;
const CRITIC_IN: u32 = {{critic_in}}u;
const MAX_IN: u32 = {{max_in}}u;
const HIDDEN: u32 = {{hidden}}u;
const LAYERS: u32 = {{layers}}u;
// Discrete: number of actions. Continuous: action vector length.
const ACTION_DIM: u32 = {{action_dim}}u;
const CONTINUOUS: bool = {{continuous}};
// Where each network starts in `params`, and the Gaussian head's log std.
const CRITIC_AT: u32 = {{critic_at}}u;
const LOG_STD_AT: u32 = {{log_std_at}}u;
const HIDDEN_LAYER_SIZE: u32 = HIDDEN * HIDDEN + HIDDEN;
const HALF_LOG_2PI: f32 = 0.9189385332046727;
const TWO_PI: f32 = 6.283185307179586;

@group(0) @binding(0) var<storage, read_write> params: array<f32>;
@group(0) @binding(1) var<storage, read_write> actor_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> critic_x: array<f32>;
@group(0) @binding(3) var<storage, read_write> noise: array<f32>;
@group(0) @binding(4) var<storage, read_write> action: array<{{action_type}}>;
@group(0) @binding(5) var<storage, read_write> log_prob: array<f32>;
@group(0) @binding(6) var<storage, read_write> value: array<f32>;

// The group's input rows, then its hidden activations, then the actor's outputs.
var<workgroup> inputs: array<f32, {{inputs_len}}>;
var<workgroup> hidden: array<f32, {{hidden_len}}>;
var<workgroup> outputs: array<f32, {{outputs_len}}>;

{{write_action}}

// tanh that cannot overflow (exp(2x) does past |x| ≈ 44); tanh(±15) is ±1 in f32.
fn safe_tanh(x: f32) -> f32 {
    return tanh(clamp(x, -15.0, 15.0));
}

// Unit `o` of the first layer (weights at `at`, `width` inputs from `inputs`) for every row.
fn first_layer(o: u32, at: u32, width: u32) {
    var acc: array<f32, {{rows_per_group}}>;
    let bias = params[at + width * HIDDEN + o];
    for (var r = 0u; r < ROWS_PER_GROUP; r++) {
        acc[r] = bias;
    }
    for (var i = 0u; i < width; i++) {
        let w = params[at + i * HIDDEN + o];
        for (var r = 0u; r < ROWS_PER_GROUP; r++) {
            acc[r] += inputs[r * MAX_IN + i] * w;
        }
    }
    for (var r = 0u; r < ROWS_PER_GROUP; r++) {
        hidden[r * HIDDEN + o] = safe_tanh(acc[r]);
    }
}

// Hidden layers 1..LAYERS−1, starting at `at`; returns where the output layer starts.
fn hidden_layers(o: u32, at: u32) -> u32 {
    var offset = at;
    for (var l = 1u; l < LAYERS; l++) {
        var acc: array<f32, {{rows_per_group}}>;
        let bias = params[offset + HIDDEN * HIDDEN + o];
        for (var r = 0u; r < ROWS_PER_GROUP; r++) {
            acc[r] = bias;
        }
        for (var i = 0u; i < HIDDEN; i++) {
            let w = params[offset + i * HIDDEN + o];
            for (var r = 0u; r < ROWS_PER_GROUP; r++) {
                acc[r] += hidden[r * HIDDEN + i] * w;
            }
        }
        workgroupBarrier();
        for (var r = 0u; r < ROWS_PER_GROUP; r++) {
            hidden[r * HIDDEN + o] = safe_tanh(acc[r]);
        }
        workgroupBarrier();
        offset += HIDDEN_LAYER_SIZE;
    }
    return offset;
}

// Copies the group's rows of `source` (actor 0, critic 1) into `inputs`, zeros past the batch.
fn load_rows(o: u32, first_row: u32, which: u32) {
    for (var k = o; k < ROWS_PER_GROUP * MAX_IN; k += HIDDEN) {
        let r = k / MAX_IN;
        let i = k % MAX_IN;
        let row = first_row + r;
        var x = 0.0;
        if (which == 0u) {
            if (row < ROWS && i < ACTOR_IN) {
                x = actor_x[row * ACTOR_IN + i];
            }
        } else if (row < ROWS && i < CRITIC_IN) {
            x = critic_x[row * CRITIC_IN + i];
        }
        inputs[k] = x;
    }
}

// Samples row `row`'s action from `outputs[r]` and writes it with its log-probability.
fn sample(r: u32, row: u32) {
    if (CONTINUOUS) {
        // Gaussian head: mean = output, σ = exp(log_std); Box–Muller from two uniforms.
        var logp = 0.0;
        for (var d = 0u; d < ACTION_DIM; d++) {
            let mean = outputs[r * ACTION_DIM + d];
            let log_std = params[LOG_STD_AT + d];
            let sigma = exp(log_std);
            let u1 = clamp(noise[row * 2u * ACTION_DIM + d], 1e-7, 1.0);
            let u2 = noise[row * 2u * ACTION_DIM + ACTION_DIM + d];
            let x = mean + sigma * (sqrt(log(u1) * -2.0) * cos(u2 * TWO_PI));
            let z = (x - mean) / sigma;
            logp += z * z * -0.5 - log_std - HALF_LOG_2PI;
            write_continuous(row * ACTION_DIM + d, x);
        }
        log_prob[row] = logp;
    } else {
        // Gumbel-max: argmax(logits + G), G = −log(−log U); first maximum wins, as argmax does.
        var best = 0u;
        var best_score = -3.4e38;
        var max_logit = -3.4e38;
        for (var a = 0u; a < ACTION_DIM; a++) {
            let logit = outputs[r * ACTION_DIM + a];
            let u = clamp(noise[row * ACTION_DIM + a], 1e-7, 1.0 - 1e-7);
            let score = logit - log(-log(u));
            if (score > best_score) {
                best_score = score;
                best = a;
            }
            max_logit = max(max_logit, logit);
        }
        var total = 0.0;
        for (var a = 0u; a < ACTION_DIM; a++) {
            total += exp(outputs[r * ACTION_DIM + a] - max_logit);
        }
        log_prob[row] = outputs[r * ACTION_DIM + best] - max_logit - log(total);
        write_discrete(row, best);
    }
}

@compute @workgroup_size({{hidden}})
fn main(
    @builtin(workgroup_id) workgroup_id: vec3<u32>,
    @builtin(local_invocation_id) local_id: vec3<u32>,
    @builtin(num_workgroups) num_workgroups: vec3<u32>,
) {
    let o = local_id.x;
    let first_row = (workgroup_id.x + workgroup_id.y * num_workgroups.x) * ROWS_PER_GROUP;

    // Actor.
    load_rows(o, first_row, 0u);
    workgroupBarrier();
    first_layer(o, 0u, ACTOR_IN);
    workgroupBarrier();
    let head = hidden_layers(o, ACTOR_IN * HIDDEN + HIDDEN);
    for (var a = o; a < ACTION_DIM; a += HIDDEN) {
        let bias = params[head + HIDDEN * ACTION_DIM + a];
        for (var r = 0u; r < ROWS_PER_GROUP; r++) {
            var sum = bias;
            for (var i = 0u; i < HIDDEN; i++) {
                sum += hidden[r * HIDDEN + i] * params[head + i * ACTION_DIM + a];
            }
            outputs[r * ACTION_DIM + a] = sum;
        }
    }
    workgroupBarrier();
    if (o < ROWS_PER_GROUP && first_row + o < ROWS) {
        sample(o, first_row + o);
    }

    // Critic.
    load_rows(o, first_row, 1u);
    workgroupBarrier();
    first_layer(o, CRITIC_AT, CRITIC_IN);
    workgroupBarrier();
    let critic_head = hidden_layers(o, CRITIC_AT + CRITIC_IN * HIDDEN + HIDDEN);
    if (o < ROWS_PER_GROUP && first_row + o < ROWS) {
        var v = params[critic_head + HIDDEN];
        for (var i = 0u; i < HIDDEN; i++) {
            v += hidden[o * HIDDEN + i] * params[critic_head + i];
        }
        value[first_row + o] = v;
    }
}
