// Kuhn poker (Kuhn 1950): a three-card deck (J < Q < K), one card each, ante 1. Seat 0 acts
// first; actions are 0 = pass (check or fold) and 1 = bet (bet or call), one chip.
//
//   start  seat 0: pass → "p", bet → "b"
//   p      seat 1: pass → showdown ±1, bet → "pb"
//   b      seat 1: pass → seat 0 wins 1 (fold), bet → showdown ±2
//   pb     seat 0: pass → seat 1 wins 1 (fold), bet → showdown ±2
//
// Observation: one-hot of the information state (13): seat 0 acting = card·2 + {start, pb},
// seat 1 acting = 6 + card·2 + {p, b}, 12 = waiting for the other seat (only "pass" is legal
// then; it is ignored). The deal of episode k of env e draws from the stream (seed, e, k).
// Game words: card 0, card 1, history (0 start, 1 p, 2 b, 3 pb). Needs two_player.wgsl.

const N_ENVS: u32 = {{n_envs}}u;
const OBS_DIM: u32 = 13u;
const N_ACTIONS: u32 = 2u;
const WAITING: u32 = 12u;

fn deal(env: u32) {
    var rng = episode_rng(env);
    let bits = rng_next4(&rng);
    let s = env * STATE_WIDTH;
    let card0 = bits.x % 3u;
    state[s + 4u] = card0;
    state[s + 5u] = (card0 + 1u + bits.y % 2u) % 3u;
    state[s + 6u] = 0u;
}

fn showdown(env: u32, stake: f32) -> f32 {
    let s = env * STATE_WIDTH;
    return select(-stake, stake, state[s + 4u] > state[s + 5u]);
}

fn game_step(env: u32) {
    let s = env * STATE_WIDTH;
    let history = state[s + 6u];
    let actor = select(0u, 1u, history == 1u || history == 2u);
    let waiting = 1u - actor;
    let bet = checked_action(env, actor, 2u) == 1u;
    // The waiting seat may only pass; anything else is counted and ignored.
    _ = checked_action(env, waiting, 1u);
    var ended = true;
    var payoff = 0.0;
    switch history {
        case 0u: {
            state[s + 6u] = select(1u, 2u, bet);
            ended = false;
        }
        case 1u: {
            if (bet) { state[s + 6u] = 3u; ended = false; } else { payoff = showdown(env, 1.0); }
        }
        case 2u: {
            payoff = select(1.0, showdown(env, 2.0), bet);
        }
        default: {
            payoff = select(-1.0, showdown(env, 2.0), bet);
        }
    }
    finish_step(env, payoff, ended);
    if (ended) {
        deal(env);
    }
}

fn game_observe(env: u32) {
    let s = env * STATE_WIDTH;
    if (state[s + 6u] == 0xFFFFFFFFu) {
        deal(env);
    }
    let history = state[s + 6u];
    if (history == 0u || history == 3u) {
        write_seat(env, 0u, state[s + 4u] * 2u + select(0u, 1u, history == 3u), 2u);
        write_seat(env, 1u, WAITING, 1u);
    } else {
        write_seat(env, 0u, WAITING, 1u);
        write_seat(env, 1u, 6u + state[s + 5u] * 2u + select(0u, 1u, history == 2u), 2u);
    }
}
