//! Test helpers: an independent float64 simple_spread written from the spec
//! (tests/data/SIMPLE_SPREAD_SPEC.md), used to record trajectories with settings the shared
//! golden file does not cover.
#![allow(dead_code)]

use serde_json::{json, Value};

/// Float64 simple_spread, one env, straight from the spec.
pub struct ReferenceSpread {
    pub n: usize,
    pub local_ratio: f64,
    pub max_cycles: usize,
    pub continuous: bool,
    pub agent_pos: Vec<[f64; 2]>,
    pub agent_vel: Vec<[f64; 2]>,
    pub landmark_pos: Vec<[f64; 2]>,
    pub steps: usize,
}

fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

impl ReferenceSpread {
    pub fn observe(&self) -> Vec<Vec<f64>> {
        (0..self.n)
            .map(|i| {
                let p = self.agent_pos[i];
                let mut o = vec![self.agent_vel[i][0], self.agent_vel[i][1], p[0], p[1]];
                for l in &self.landmark_pos {
                    o.extend([l[0] - p[0], l[1] - p[1]]);
                }
                for j in (0..self.n).filter(|&j| j != i) {
                    o.extend([self.agent_pos[j][0] - p[0], self.agent_pos[j][1] - p[1]]);
                }
                o.extend(std::iter::repeat_n(0.0, 2 * (self.n - 1)));
                // The reference casts observations to float32.
                o.into_iter().map(|v| v as f32 as f64).collect()
            })
            .collect()
    }

    /// `actions`: per agent, `[a]` (discrete) or `[a0..a4]` (continuous, float32 values).
    pub fn step(&mut self, actions: &[Vec<f64>]) -> (Vec<Vec<f64>>, Vec<f64>, bool) {
        let n = self.n;
        let mut force = vec![[0.0f64; 2]; n];
        for (i, a) in actions.iter().enumerate() {
            let u = if self.continuous {
                let c = |k: usize| (a[k] as f32).clamp(0.0, 1.0);
                [(c(2) - c(1)) as f64, (c(4) - c(3)) as f64]
            } else {
                match a[0] as i64 % 5 {
                    1 => [-1.0, 0.0],
                    2 => [1.0, 0.0],
                    3 => [0.0, -1.0],
                    4 => [0.0, 1.0],
                    _ => [0.0, 0.0],
                }
            };
            force[i] = [u[0] * 5.0, u[1] * 5.0];
        }
        for a in 0..n {
            for b in a + 1..n {
                let d = [self.agent_pos[a][0] - self.agent_pos[b][0], self.agent_pos[a][1] - self.agent_pos[b][1]];
                let dist = (d[0] * d[0] + d[1] * d[1]).sqrt();
                let k = 1e-3;
                let pen = softplus(-(dist - 0.3) / k) * k;
                for c in 0..2 {
                    let f = 100.0 * d[c] / dist * pen;
                    force[a][c] += f;
                    force[b][c] -= f;
                }
            }
        }
        for i in 0..n {
            for c in 0..2 {
                self.agent_pos[i][c] += self.agent_vel[i][c] * 0.1;
                self.agent_vel[i][c] = self.agent_vel[i][c] * 0.75 + force[i][c] * 0.1;
            }
        }
        let dist = |a: [f64; 2], b: [f64; 2]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
        let global: f64 = -self
            .landmark_pos
            .iter()
            .map(|&l| self.agent_pos.iter().map(|&p| dist(p, l)).fold(f64::INFINITY, f64::min))
            .sum::<f64>();
        let rew = (0..n)
            .map(|i| {
                let local = -((0..n).filter(|&j| j != i && dist(self.agent_pos[i], self.agent_pos[j]) < 0.3).count() as f64);
                global * (1.0 - self.local_ratio) + local * self.local_ratio
            })
            .collect();
        self.steps += 1;
        (self.observe(), rew, self.steps >= self.max_cycles)
    }

    /// Records one episode with `actions_per_step` as a JSON line of the golden format.
    pub fn record(mut self, actions_per_step: &[Vec<Vec<f64>>]) -> Value {
        let init = json!({
            "agent_pos": self.agent_pos, "agent_vel": self.agent_vel,
            "landmark_pos": self.landmark_pos, "obs": self.observe(),
        });
        let mut steps = Vec::new();
        let mut actions = Vec::new();
        for a in actions_per_step {
            let (obs, rew, truncated) = self.step(a);
            steps.push(json!({
                "obs": obs, "rew": rew, "agent_pos": self.agent_pos,
                "agent_vel": self.agent_vel, "truncated": truncated,
            }));
            actions.push(if self.continuous { json!(a) } else { json!(a.iter().map(|v| v[0] as i64).collect::<Vec<_>>()) });
        }
        json!({
            "env": "simple_spread", "n_agents": self.n, "continuous": self.continuous,
            "local_ratio": self.local_ratio, "max_cycles": self.max_cycles, "seed": 0,
            "source": "tests/common ReferenceSpread (float64)",
            "init": init, "actions": actions, "steps": steps,
        })
    }
}

/// A tiny deterministic generator for test inputs (no dependence on rand's algorithms).
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A scratch directory unique to this test process.
pub fn scratch_dir(name: &str) -> std::path::PathBuf {
    static CLEARED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let dir = std::env::temp_dir().join(format!("shoal-test-{}-{name}", std::process::id()));
    // Process ids are reused: what an earlier process of the same id left there is removed the
    // first time this process asks for the directory (a run left there makes `train` refuse).
    let mut cleared = CLEARED.lock().unwrap();
    if !cleared.iter().any(|n| n == name) {
        let _ = std::fs::remove_dir_all(&dir);
        cleared.push(name.to_string());
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A training run small enough for a test: 8 envs × 10 steps per update, 3 updates.
pub fn tiny_train_config(algo: shoal::train::Algo) -> shoal::train::TrainConfig {
    shoal::train::TrainConfig {
        algo,
        envs: 8,
        rollout_steps: 10,
        total_env_steps: 3 * 80,
        update_epochs: 2,
        num_minibatches: 2,
        hidden: 16,
        seed: 5,
        checkpoint_every: 0,
        ..shoal::train::TrainConfig::default()
    }
}

/// Frames of an animated GIF as (width, height, RGBA pixels), decoded independently of shoal.
pub fn decode_gif(bytes: &[u8]) -> Vec<(u16, u16, Vec<u8>)> {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options.read_info(bytes).expect("a valid GIF header");
    let mut frames = Vec::new();
    while let Some(frame) = decoder.read_next_frame().expect("a valid GIF frame") {
        frames.push((frame.width, frame.height, frame.buffer.to_vec()));
    }
    frames
}

/// Opens a report.html and checks that every figure it promises (its `#figures` list) is an
/// embedded image that decodes (PNG or GIF); returns the figure ids.
pub fn check_report(path: &std::path::Path) -> Vec<String> {
    use base64::Engine as _;
    let html = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"), "not a whole page");
    let list = html.split("<span id=\"figures\">").nth(1).and_then(|s| s.split("</span>").next()).expect("a figure list");
    let promised: Vec<String> =
        list.split("href=\"#").skip(1).map(|s| s.split('"').next().unwrap().to_string()).collect();
    assert!(!promised.is_empty(), "the report promises no figure");
    for id in &promised {
        let marker = format!("data-figure=\"{id}\"");
        let tag = html.split(&marker).nth(1).unwrap_or_else(|| panic!("figure {id} is promised but absent"));
        let src = tag.split("src=\"").nth(1).and_then(|s| s.split('"').next()).unwrap();
        let (mime, data) = src.strip_prefix("data:").and_then(|s| s.split_once(";base64,")).expect("an inline image");
        let bytes = base64::engine::general_purpose::STANDARD.decode(data).expect("valid base64");
        match mime {
            "image/png" => {
                let mut reader = png::Decoder::new(std::io::Cursor::new(&bytes)).read_info().expect("a PNG header");
                let mut pixels = vec![0; reader.output_buffer_size()];
                let info = reader.next_frame(&mut pixels).expect("PNG pixels");
                assert!(info.width >= 64 && info.height >= 64, "{id}: {}×{}", info.width, info.height);
            }
            "image/gif" => assert!(!decode_gif(&bytes).is_empty(), "{id}: no frames"),
            other => panic!("{id}: unexpected image type {other}"),
        }
    }
    promised
}

/// Runs the `shoal` binary: whether it succeeded, and its stdout then stderr.
pub fn run_shoal(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shoal"))
        .args(args)
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Runs the `shoal` binary, requires success, returns its stdout then stderr.
pub fn shoal_ok(args: &[&str]) -> String {
    let (ok, text) = run_shoal(args);
    assert!(ok, "{args:?}: {text}");
    text
}

/// Every float parameter of a module, flattened in visiting order and read back.
pub fn flat_params<M: burn::module::Module>(module: &M) -> Vec<f32> {
    use burn::module::{ModuleVisitor, Param};
    use burn::tensor::Tensor;
    struct Collect(Vec<Tensor<1>>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let t = param.val().without_autodiff();
            let n = t.shape().num_elements();
            self.0.push(t.reshape([n]));
        }
    }
    let mut collect = Collect(Vec::new());
    module.visit(&mut collect);
    shoal::GpuContext::shared().unwrap().read_f32(Tensor::cat(collect.0, 0)).unwrap()
}

/// A deterministic stream of `n` values in [−3, 3) (splitmix64), for float64 references.
pub fn splitmix_values(seed: u64, n: usize) -> Vec<f64> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 11) as f64 / (1u64 << 53) as f64 * 6.0 - 3.0
        })
        .collect()
}
