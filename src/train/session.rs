//! A training run in a directory, start to finish: what `shoal train`, `shoal compare` and the
//! Python package's `shoal.train` all run.
//!
//! A run directory holds `config.toml`, `metrics.csv` (one row per update), `checkpoint/` (and
//! `checkpoint.old/` while one is being replaced) and `learning_curve.png`. The guarantees:
//! a run that cannot start leaves the directory as it was; an existing run is never replaced
//! unless asked; a resumed run continues from its last checkpoint exactly (its metrics rows past
//! the checkpoint, or cut short by a crash, are dropped and redone); one writer per directory.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};

use super::checkpoint::{Learner, UpdateMetrics};
use super::run::{new_learner, resume_learner};
use super::store::{locate_checkpoint, RunLock};
use super::TrainConfig;
use crate::error::{Result, ShoalError};
use crate::gpu::GpuContext;
use crate::plot::{LineChart, Scale, Series};

/// The files of a run directory that a new run would replace.
const RUN_FILES: [&str; 4] = ["config.toml", "metrics.csv", "checkpoint", "checkpoint.old"];

/// The run directory `path` names: itself, or the run around a `checkpoint/` given by mistake.
pub fn run_dir(path: &Path) -> PathBuf {
    let inside_run = path.file_name().is_some_and(|n| n == "checkpoint") && path.parent().is_some_and(|p| p.join("config.toml").is_file());
    if inside_run { path.parent().map(Path::to_path_buf).unwrap_or_default() } else { path.to_path_buf() }
}

/// Refuses to start a new run where one already is (its files name it), saying how to continue
/// or replace it.
pub fn refuse_existing_run(out: &Path) -> Result<()> {
    match RUN_FILES.iter().find(|f| out.join(f).exists()) {
        Some(found) => Err(ShoalError::config("out", out.display(), format!("already holds a run ({found}): continue it with --resume {0}, or replace it with --force", out.display()))),
        None => Ok(()),
    }
}

/// A new run of `config` in `out`: the learner is built first (a run that cannot start touches
/// no file), then the directory is locked, cleared of an earlier run's files, and given the
/// config, a checkpoint of update 0 and the metrics header.
pub fn start_run(ctx: Arc<GpuContext>, config: TrainConfig, out: &Path) -> Result<(Box<dyn Learner>, RunLock)> {
    let learner = new_learner(ctx, config.clone())?;
    let lock = RunLock::acquire(out)?;
    for file in RUN_FILES {
        let path = out.join(file);
        let removed = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        match removed {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(ShoalError::io(&path, e)),
            _ => {}
        }
    }
    // A checkpoint of update 0 first: from here on a resume always has one.
    learner.save_checkpoint(&out.join("checkpoint"))?;
    let text = toml::to_string(&config).map_err(|e| ShoalError::Internal(format!("config.toml: {e}")))?;
    crate::io::write_atomic(&out.join("config.toml"), text.as_bytes())?;
    write_csv_header(&out.join("metrics.csv"), &learner.group_names())?;
    Ok((learner, lock))
}

/// The run in `out`, from its last good checkpoint (a copy a crash left is put back where it
/// belongs), with its metrics cut back to that checkpoint.
pub fn resume_run(ctx: Arc<GpuContext>, out: &Path) -> Result<(Box<dyn Learner>, RunLock)> {
    if !out.is_dir() {
        return Err(ShoalError::config("resume", out.display(), "no run directory there: pass the --out directory of the run to continue"));
    }
    // One writer per run directory, for the whole run (released when the lock is dropped).
    let lock = RunLock::acquire(out)?;
    let checkpoint = locate_checkpoint(out)?;
    let trainer = resume_learner(ctx, &checkpoint)?;
    if checkpoint != out.join("checkpoint") {
        trainer.save_checkpoint(&out.join("checkpoint"))?;
    }
    repair_metrics(&out.join("metrics.csv"), trainer.progress().update, &trainer.group_names())?;
    Ok((trainer, lock))
}

/// What a finished run reports.
pub struct RunSummary {
    pub env_steps: u64,
    pub wall_seconds: f64,
    pub final_return: f64,
}

/// A fresh `metrics.csv` with the header of a run on an env with these agent groups.
pub fn write_csv_header(path: &Path, groups: &[String]) -> Result<()> {
    crate::io::write_atomic(path, format!("{}\n", UpdateMetrics::csv_header(groups)).as_bytes())?;
    Ok(())
}

/// Makes `metrics.csv` agree with a checkpoint at update `done`: keeps the header and the whole
/// rows of updates up to `done` (rows past it are about to be redone; a partial row is what a
/// crash mid-write leaves), says what it dropped, and rewrites the file atomically if needed.
pub fn repair_metrics(csv_path: &Path, done: usize, groups: &[String]) -> Result<()> {
    let text = match std::fs::read_to_string(csv_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(ShoalError::io(csv_path, e).into()),
    };
    let header = UpdateMetrics::csv_header(groups);
    let fields = header.split(',').count();
    let whole = |line: &str| line.split(',').count() == fields && line.split(',').all(|f| f.parse::<f64>().is_ok());
    let mut kept = vec![header];
    let lines: Vec<&str> = text.split('\n').collect();
    // The text after the last newline is a row cut short, whatever it holds.
    let complete = &lines[..lines.len().saturating_sub(1)];
    kept.extend(complete.iter().skip(1).filter(|l| whole(l) && l.split(',').next().and_then(|u| u.parse::<usize>().ok()).is_some_and(|u| u >= 1 && u <= done)).map(|l| l.to_string()));
    let repaired = kept.join("\n") + "\n";
    if repaired != text {
        let dropped = text.lines().count().saturating_sub(kept.len());
        if !text.is_empty() {
            eprintln!("{}: kept {} rows up to update {done} (the checkpoint), dropped {dropped} row(s) past it or cut short", csv_path.display(), kept.len() - 1);
        }
        crate::io::write_atomic(csv_path, repaired.as_bytes())?;
    }
    Ok(())
}

/// Runs the remaining updates: progress bar, metrics.csv rows, checkpoints, learning curve.
pub fn train_loop(trainer: &mut dyn Learner, out: &Path, show_progress: bool) -> Result<RunSummary> {
    let updates = trainer.config().updates();
    let bar = if show_progress { ProgressBar::new(updates as u64) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} updates {msg}")
            .expect("static template"),
    );
    bar.set_position(trainer.progress().update as u64);
    let csv_path = out.join("metrics.csv");
    repair_metrics(&csv_path, trainer.progress().update, &trainer.group_names())?;
    let mut csv = std::fs::OpenOptions::new().append(true).open(&csv_path).map_err(|e| ShoalError::io(&csv_path, e))?;
    let checkpoint = out.join("checkpoint");
    let every = trainer.config().checkpoint_every;
    // A resumed run reports its last recorded return until it records a new one.
    let mut last_return = read_curve(&csv_path)?.last().map_or(f64::NAN, |p| p.1);
    while !trainer.finished() {
        let m = trainer.update()?;
        writeln!(csv, "{}", m.csv_row()).map_err(|e| ShoalError::io(&csv_path, e))?;
        if m.mean_episode_return.is_finite() {
            last_return = m.mean_episode_return;
        }
        bar.set_message(format!("{:.0} env-steps/s, return {:.2}", m.env_steps_per_s, last_return));
        bar.inc(1);
        if (every > 0 && m.update % every == 0) || trainer.finished() {
            trainer.save_checkpoint(&checkpoint)?;
        }
    }
    bar.finish();
    let title = format!("{}: mean episode return", trainer.config().env.name());
    plot_learning_curves(&[(trainer.config().algo.name().to_string(), vec![csv_path.clone()])], &title, &out.join("learning_curve.png"))?;
    Ok(RunSummary {
        env_steps: trainer.progress().env_steps,
        wall_seconds: trainer.progress().wall_seconds,
        final_return: last_return,
    })
}

/// Reads `(env_steps, mean_episode_return)` from a metrics.csv.
pub fn read_curve(path: &Path) -> Result<Vec<(f64, f64)>> {
    read_column(path, "mean_episode_return")
}

/// The agent groups whose returns a metrics.csv records (its `return_<group>` columns).
pub fn group_columns(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| ShoalError::io(path, e))?;
    let header = text.lines().next().unwrap_or("");
    Ok(header.split(',').filter_map(|c| c.strip_prefix("return_")).map(String::from).collect())
}

/// Reads `(env_steps, column)` from a metrics.csv, skipping rows where it is not finite.
pub fn read_column(path: &Path, column: &str) -> Result<Vec<(f64, f64)>> {
    let text = std::fs::read_to_string(path).map_err(|e| ShoalError::io(path, e))?;
    let bad = |line: usize, message: String| ShoalError::BadInput { path: path.display().to_string(), line, message };
    let Some(k) = text.lines().next().and_then(|h| h.split(',').position(|c| c == column)) else {
        return Err(bad(1, format!("no `{column}` column in the header")));
    };
    let mut points = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let parse = |k: usize| -> Result<f64> { fields.get(k).and_then(|f| f.parse().ok()).ok_or_else(|| bad(i + 1, "malformed metrics row".into()).into()) };
        let (steps, ret) = (parse(1)?, parse(k)?);
        if ret.is_finite() {
            points.push((steps, ret));
        }
    }
    Ok(points)
}

/// One PNG: a line per label (mean over its runs) with a min..max band when there are several.
pub fn plot_learning_curves(runs: &[(String, Vec<PathBuf>)], title: &str, png: &Path) -> Result<()> {
    plot_column(runs, "mean_episode_return", title, "mean per-agent episode return", png)
}

/// [`plot_learning_curves`] of any metrics column (`return_adversary`, …) against env steps.
pub fn plot_column(runs: &[(String, Vec<PathBuf>)], column: &str, title: &str, y_label: &str, png: &Path) -> Result<()> {
    let mut series = Vec::new();
    for (label, paths) in runs {
        let curves = paths.iter().map(|p| read_column(p, column)).collect::<Result<Vec<_>>>()?;
        let len = curves.iter().map(|c| c.len()).min().unwrap_or(0);
        if len == 0 {
            continue;
        }
        let points: Vec<(f64, f64)> = (0..len)
            .map(|i| (curves[0][i].0, curves.iter().map(|c| c[i].1).sum::<f64>() / curves.len() as f64))
            .collect();
        let band = (curves.len() > 1).then(|| {
            (0..len)
                .map(|i| {
                    let ys = curves.iter().map(|c| c[i].1);
                    (curves[0][i].0, ys.clone().fold(f64::MAX, f64::min), ys.fold(f64::MIN, f64::max))
                })
                .collect()
        });
        series.push(Series { name: format!("{label} ({} seed{})", curves.len(), if curves.len() > 1 { "s" } else { "" }), points, band });
    }
    if series.is_empty() {
        return Ok(());
    }
    LineChart {
        title: title.into(),
        x_label: "env steps".into(),
        y_label: y_label.into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Linear,
        series,
    }
    .save_png(png, 900, 560)?;
    Ok(())
}
