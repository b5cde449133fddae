// The physics of PettingZoo's Multi-Particle Environments (mpe2 `_mpe_utils/core.py`, World.step),
// shared by every MPE scenario: soft contact forces, damped Euler integration, speed clamp.
// Reference arithmetic is float64; these float32 versions stay within 1e-5 over an episode.

const MPE_DT: f32 = 0.1;
const MPE_DAMPING: f32 = 0.25;
const MPE_CONTACT_FORCE: f32 = 100.0;
const MPE_CONTACT_MARGIN: f32 = 0.001;

// log(1 + e) accurate for tiny e (WGSL has no log1p): the ratio cancels log's rounding.
// A select, not a branch: CPU adapters run both sides of a divergent branch anyway.
fn log1p_small(e: f32) -> f32 {
    let u = 1.0 + e;
    return select(log(u) * e / (u - 1.0), e, u == 1.0);
}

// numpy's logaddexp(0, x), stable over the ±3000 range the contact margin produces.
fn softplus(x: f32) -> f32 {
    return max(x, 0.0) + log1p_small(exp(-abs(x)));
}

// Contact force on entity a from entity b, `delta = p_a - p_b` (World.get_collision_force).
// Applied to every colliding pair every step, whatever the distance: far pairs get ~0.
fn mpe_contact_force(delta: vec2<f32>, dist_min: f32) -> vec2<f32> {
    let dist = sqrt(delta.x * delta.x + delta.y * delta.y);
    let penetration = softplus(-(dist - dist_min) * (1.0 / MPE_CONTACT_MARGIN)) * MPE_CONTACT_MARGIN;
    return MPE_CONTACT_FORCE * delta / dist * penetration;
}

struct Body {
    pos: vec2<f32>,
    vel: vec2<f32>,
}

// World.integrate_state: position moves with the old velocity, then damping, then the force.
// `max_speed <= 0` means no clamp (mpe's `max_speed = None`).
fn mpe_integrate(body: Body, force: vec2<f32>, mass: f32, max_speed: f32) -> Body {
    let pos = body.pos + body.vel * MPE_DT;
    var vel = body.vel * (1.0 - MPE_DAMPING);
    vel = vel + (force / mass) * MPE_DT;
    if (max_speed > 0.0) {
        let speed = sqrt(vel.x * vel.x + vel.y * vel.y);
        if (speed > max_speed) {
            vel = vel / speed * max_speed;
        }
    }
    return Body(pos, vel);
}

// The movement part of a discrete MPE action (`a % 5`): none, left, right, down, up.
fn mpe_discrete_move(action: u32) -> vec2<f32> {
    let a = action % 5u;
    return vec2<f32>(
        select(0.0, -1.0, a == 1u) + select(0.0, 1.0, a == 2u),
        select(0.0, -1.0, a == 3u) + select(0.0, 1.0, a == 4u),
    );
}

// The movement part of a continuous MPE action (a[0] ignored), after clipping to [0, 1].
fn mpe_continuous_move(a1: f32, a2: f32, a3: f32, a4: f32) -> vec2<f32> {
    return vec2<f32>(clamp(a2, 0.0, 1.0) - clamp(a1, 0.0, 1.0), clamp(a4, 0.0, 1.0) - clamp(a3, 0.0, 1.0));
}
