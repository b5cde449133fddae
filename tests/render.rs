//! Rendering: `shoal render` writes a GIF with one frame per step of every episode, for a random
//! policy and for a checkpoint, and rejects bad requests by name.

mod common;

use common::{decode_gif, run_shoal as shoal, scratch_dir};
use shoal::train::{Algo, Trainer};
use shoal::GpuContext;

/// Frames differ over an episode (agents move) and every frame has the requested size.
fn assert_animation(path: &std::path::Path, frames: usize, width: u16, height: u16) {
    let decoded = decode_gif(&std::fs::read(path).unwrap());
    assert_eq!(decoded.len(), frames, "{}", path.display());
    assert!(decoded.iter().all(|f| f.0 == width && f.1 == height), "frame sizes");
    assert_ne!(decoded[0].2, decoded[frames - 1].2, "the first and last frames are identical");
}

#[test]
fn random_policy_gif_has_a_frame_per_step_of_every_episode() {
    let dir = scratch_dir("render-random");
    let gif = dir.join("random.gif");
    let strip = dir.join("strip.png");
    let (ok, text) = shoal(&[
        "render", "--env", "simple-spread", "--random", "--agents", "4", "--episodes", "3", "--seed", "7",
        "--width", "200", "--height", "220", "--fps", "20", "--out", gif.to_str().unwrap(), "--filmstrip", strip.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    assert_animation(&gif, 3 * 25, 200, 220);
    assert_eq!(&std::fs::read(&strip).unwrap()[..8], b"\x89PNG\r\n\x1a\n");
    // The same seed renders the same animation.
    let again = dir.join("again.gif");
    let (ok, text) = shoal(&["render", "--random", "--agents", "4", "--episodes", "3", "--seed", "7", "--width", "200", "--height", "220", "--fps", "20", "--out", again.to_str().unwrap()]);
    assert!(ok, "{text}");
    assert_eq!(std::fs::read(&gif).unwrap(), std::fs::read(&again).unwrap());
}

#[test]
fn checkpoint_gif_has_a_frame_per_step_of_every_episode() {
    let dir = scratch_dir("render-checkpoint");
    let mut trainer = Trainer::new(GpuContext::shared().unwrap(), common::tiny_train_config(Algo::Mappo)).unwrap();
    trainer.update().unwrap();
    trainer.save_checkpoint(&dir.join("run/checkpoint")).unwrap();
    for (flags, episodes) in [(&[][..], "2"), (&["--stochastic"][..], "1")] {
        let gif = dir.join(format!("policy{episodes}.gif"));
        let mut args = vec!["render", "--checkpoint", dir.join("run").to_str().unwrap().to_owned().leak(), "--episodes", episodes, "--out"];
        args.push(gif.to_str().unwrap().to_owned().leak());
        args.extend_from_slice(flags);
        let (ok, text) = shoal(&args);
        assert!(ok, "{text}");
        assert_animation(&gif, episodes.parse::<usize>().unwrap() * 25, 480, 504);
    }
}

#[test]
fn swarm_and_ising_gifs_have_a_frame_per_step() {
    let dir = scratch_dir("render-mean-field");
    // Dots for a small swarm, a density map past 4,000 agents, the spin lattice for ising.
    for (args, frames) in [
        (vec!["--env", "swarm", "--agents", "60"], 100),
        (vec!["--env", "swarm", "--agents", "5000"], 100),
        (vec!["--env", "ising", "--size", "16", "--episodes", "2"], 2 * 50),
    ] {
        let gif = dir.join(format!("{}.gif", args[3]));
        let mut all = vec!["render", "--random", "--width", "160", "--height", "180", "--out", gif.to_str().unwrap()];
        all.extend_from_slice(&args);
        let (ok, text) = shoal(&all);
        assert!(ok, "{text}");
        assert_animation(&gif, frames, 160, 180);
    }
    // A directory without a checkpoint is named, with the file it lacks.
    let (ok, text) = shoal(&["render", "--env", "swarm", "--checkpoint", dir.to_str().unwrap(), "--out", dir.join("x.gif").to_str().unwrap()]);
    assert!(!ok && text.contains("state.json") && !text.contains("panicked"), "{text}");
}

#[test]
fn bad_render_requests_are_named() {
    let dir = scratch_dir("render-errors");
    let gif = dir.join("x.gif");
    let gif = gif.to_str().unwrap();
    for (args, expected) in [
        (vec!["render", "--random", "--episodes", "0", "--out", gif], "episodes"),
        (vec!["render", "--random", "--fps", "0", "--out", gif], "fps"),
        (vec!["render", "--random", "--width", "10", "--out", gif], "width"),
        (vec!["render", "--random", "--agents", "0", "--out", gif], "agents"),
        (vec!["render", "--checkpoint", "/nonexistent/run", "--out", gif], "/nonexistent/run"),
        (vec!["render", "--out", gif], "--random"),
    ] {
        let (ok, text) = shoal(&args);
        assert!(!ok, "{args:?} succeeded");
        assert!(text.contains(expected), "{args:?}: error does not name {expected}: {text}");
        assert!(!text.contains("panicked"), "{args:?} panicked: {text}");
    }
    assert!(!std::path::Path::new(gif).exists(), "a failed render left a file");
}
