// A two-player zero-sum normal-form game: both seats choose at once, seat 0 (rows) receives
// PAYOFF[row][col] and seat 1 its negation; every episode is one step. Rock-paper-scissors and
// the biased RPS are payoff matrices (src/env/matrix_game.rs).
//
// Observation: the seat's one-hot (2). Actions: max(rows, cols), the first `rows` legal for
// seat 0 and the first `cols` for seat 1. Needs two_player.wgsl.

const N_ENVS: u32 = {{n_envs}}u;
const OBS_DIM: u32 = 2u;
const N_ACTIONS: u32 = {{n_actions}}u;
const ROWS: u32 = {{rows}}u;
const COLS: u32 = {{cols}}u;
var<private> PAYOFF: array<f32, {{cells}}> = array<f32, {{cells}}>({{payoff}});

fn game_step(env: u32) {
    let row = checked_action(env, 0u, ROWS);
    let col = checked_action(env, 1u, COLS);
    finish_step(env, PAYOFF[row * COLS + col], true);
}

fn game_observe(env: u32) {
    write_seat(env, 0u, 0u, ROWS);
    write_seat(env, 1u, 1u, COLS);
}
