//! `shoal._shoal`: the extension module under the Python package `shoal` (`python/shoal/`).
//!
//! A thin layer: every decision is the Rust crate's ([`shoal::host`], the env registry, the
//! learners). This file converts — numpy arrays in and out of [`HostBatch`] and [`HostPolicy`],
//! Python scalars into env options, shoal's errors into Python exceptions (`ValueError` for
//! what the caller gave, `OSError` for files, `RuntimeError` for the device) — so nothing panics
//! across the boundary and every message is the one the CLI prints. The PettingZoo and batched
//! faces (`shoal.parallel_env`, `shoal.vector_env`) are Python classes over [`Batch`].

use std::path::PathBuf;

use numpy::{IntoPyArray, PyArrayMethods, PyReadonlyArrayDyn};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString};

use shoal::env::{ActionSpace, EnvOptions, EnvParams, EnvSpec, OptionValue};
use shoal::host::{HostActions, HostBatch, HostPolicy, HostStep};
use shoal::train::session;
use shoal::{ShoalError, TrainConfig};

fn py_err(e: ShoalError) -> PyErr {
    let message = e.to_string();
    match e {
        ShoalError::NoAdapter { .. } | ShoalError::Gpu(_) | ShoalError::Internal(_) | ShoalError::Drawing(_) | ShoalError::Solver(_) => PyRuntimeError::new_err(message),
        ShoalError::Io { .. } => PyOSError::new_err(message),
        _ => PyValueError::new_err(message),
    }
}

/// A Python scalar as an env option value (bool before int: Python's bool is an int).
fn option_value(key: &str, value: &Bound<'_, PyAny>) -> PyResult<OptionValue> {
    if value.is_instance_of::<PyBool>() {
        Ok(OptionValue::Bool(value.extract()?))
    } else if value.is_instance_of::<PyInt>() {
        Ok(OptionValue::Int(value.extract()?))
    } else if value.is_instance_of::<PyFloat>() {
        Ok(OptionValue::Float(value.extract()?))
    } else if value.is_instance_of::<PyString>() {
        Ok(OptionValue::Text(value.extract()?))
    } else {
        Err(PyValueError::new_err(format!("env option `{key}`: {} is not a bool, int, float or str", value.repr()?)))
    }
}

fn spec_dict<'py>(py: Python<'py>, spec: &EnvSpec) -> PyResult<Bound<'py, PyDict>> {
    let groups = PyList::empty(py);
    for g in &spec.groups {
        let group = PyDict::new(py);
        group.set_item("name", &g.name)?;
        group.set_item("agents", g.agents)?;
        group.set_item("obs_dim", g.obs_dim)?;
        match g.action {
            ActionSpace::Discrete { n } => {
                group.set_item("action", "discrete")?;
                group.set_item("n", n)?;
            }
            ActionSpace::Continuous { dim, low, high } => {
                group.set_item("action", "box")?;
                group.set_item("dim", dim)?;
                group.set_item("low", low)?;
                group.set_item("high", high)?;
            }
        }
        groups.append(group)?;
    }
    let out = PyDict::new(py);
    out.set_item("name", spec.name)?;
    out.set_item("n_envs", spec.n_envs)?;
    out.set_item("max_cycles", spec.max_cycles)?;
    out.set_item("groups", groups)?;
    Ok(out)
}

/// `[envs, agents, obs_dim]` arrays per group, `[envs, agents]` rewards, `[envs]` flags.
fn step_dict<'py>(py: Python<'py>, spec: &EnvSpec, step: HostStep) -> PyResult<Bound<'py, PyDict>> {
    let envs = spec.n_envs;
    let per_group = |arrays: Vec<Vec<f32>>| -> PyResult<Vec<Bound<'py, PyAny>>> {
        arrays
            .into_iter()
            .zip(&spec.groups)
            .map(|(values, g)| Ok(values.into_pyarray(py).reshape([envs, g.agents, g.obs_dim])?.into_any()))
            .collect()
    };
    let out = PyDict::new(py);
    out.set_item("obs", per_group(step.obs)?)?;
    out.set_item("next_obs", per_group(step.next_obs)?)?;
    out.set_item("reward", step.reward.into_pyarray(py).reshape([envs, spec.agents_per_env()])?)?;
    out.set_item("terminated", step.terminated.into_pyarray(py))?;
    out.set_item("truncated", step.truncated.into_pyarray(py))?;
    Ok(out)
}

/// A batch of one registered env on the device, driven with numpy arrays.
#[pyclass(unsendable, module = "shoal._shoal")]
struct Batch {
    inner: HostBatch,
}

#[pymethods]
impl Batch {
    /// `num_envs` envs of `name`; `size` is agents per env or the side of a lattice or map, as
    /// the env reads it (its default when `None`); `options` are the env's own keywords.
    #[new]
    #[pyo3(signature = (name, num_envs, size=None, max_cycles=None, continuous=false, local_ratio=None, options=None))]
    fn new(name: &str, num_envs: usize, size: Option<usize>, max_cycles: Option<usize>, continuous: bool, local_ratio: Option<f32>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Batch> {
        let kind = HostBatch::kind_named(name).map_err(py_err)?;
        let scale = kind.entry().scale;
        let mut params: EnvParams = scale.params(num_envs, size.unwrap_or(scale.default_size()));
        params.max_cycles = max_cycles;
        params.continuous = continuous;
        if let Some(r) = local_ratio {
            params.local_ratio = r;
        }
        let mut env_options = EnvOptions::new();
        if let Some(options) = options {
            for (key, value) in options.iter() {
                let key: String = key.extract()?;
                env_options.set(&key, option_value(&key, &value)?);
            }
        }
        // Where the options decide the population (mpe2's `num_good`, `N`), they size the batch.
        if let Some(agents) = kind.population(&env_options).map_err(py_err)? {
            params.agents = agents;
        }
        params.options = env_options;
        Ok(Batch { inner: HostBatch::new(kind, params).map_err(py_err)? })
    }

    /// Shapes and spaces: `{name, n_envs, max_cycles, groups: [{name, agents, obs_dim, action, ...}]}`.
    fn spec<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        spec_dict(py, self.inner.spec())
    }

    /// Starts every env with shoal's seeding.
    fn reset<'py>(&mut self, py: Python<'py>, seed: u64) -> PyResult<Bound<'py, PyDict>> {
        let step = self.inner.reset(seed).map_err(py_err)?;
        step_dict(py, self.inner.spec(), step)
    }

    /// Whether `reset_like_reference` reproduces the reference's episodes for this env.
    fn has_reference_seeding(&self) -> bool {
        self.inner.has_reference_seeding()
    }

    /// Starts every env as the reference's `reset(seed=seed)` (NumPy's generator).
    #[pyo3(signature = (seed, fallback_seed))]
    fn reset_like_reference<'py>(&mut self, py: Python<'py>, seed: Option<u64>, fallback_seed: u64) -> PyResult<Bound<'py, PyDict>> {
        let step = self.inner.reset_like_reference(seed, fallback_seed).map_err(py_err)?;
        step_dict(py, self.inner.spec(), step)
    }

    /// One step: a C-contiguous array per agent group, int32 `[envs, agents]` or float32
    /// `[envs, agents, dim]`.
    fn step<'py>(&mut self, py: Python<'py>, actions: Vec<Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyDict>> {
        let mut host = Vec::with_capacity(actions.len());
        for (g, array) in actions.iter().enumerate() {
            let discrete = matches!(self.inner.spec().groups.get(g).map(|g| &g.action), Some(ActionSpace::Discrete { .. }));
            host.push(if discrete {
                let a: PyReadonlyArrayDyn<'py, i32> = array.extract()?;
                HostActions::Discrete(a.as_slice()?.to_vec())
            } else {
                let a: PyReadonlyArrayDyn<'py, f32> = array.extract()?;
                HostActions::Continuous(a.as_slice()?.to_vec())
            });
        }
        let step = self.inner.step(&host).map_err(py_err)?;
        step_dict(py, self.inner.spec(), step)
    }

    /// `steps` steps of random actions sampled on the device; nothing read back.
    fn run_random(&mut self, steps: usize, seed: u64) -> PyResult<()> {
        self.inner.run_random(steps, seed).map_err(py_err)
    }

    /// `steps` steps of a trained policy (run or checkpoint directory), on the device.
    #[pyo3(signature = (checkpoint, steps, greedy=true, seed=0))]
    fn run_policy(&mut self, checkpoint: PathBuf, steps: usize, greedy: bool, seed: u64) -> PyResult<()> {
        self.inner.run_policy(&checkpoint, steps, greedy, seed).map_err(py_err)
    }

    /// `{episodes, mean_return, std_return, mean_length, invalid_actions}` since the last reset.
    fn episode_stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.inner.episode_stats().map_err(py_err)?;
        let out = PyDict::new(py);
        out.set_item("episodes", s.episodes)?;
        out.set_item("mean_return", s.mean_return)?;
        out.set_item("std_return", s.std_return)?;
        out.set_item("mean_length", s.mean_length)?;
        out.set_item("invalid_actions", s.invalid_actions)?;
        Ok(out)
    }

    /// Env 0 as an `[height, width, 3]` uint8 array.
    #[pyo3(signature = (width=480, height=480))]
    fn render_rgb<'py>(&self, py: Python<'py>, width: u32, height: u32) -> PyResult<Bound<'py, PyAny>> {
        let rgb = self.inner.render_rgb(width, height).map_err(py_err)?;
        Ok(rgb.into_pyarray(py).reshape([height as usize, width as usize, 3])?.into_any())
    }

    /// Copies between host and device so far (this process): `{uploads, upload_bytes, downloads, download_bytes}`.
    fn transfers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let t = self.inner.transfers();
        let out = PyDict::new(py);
        out.set_item("uploads", t.uploads)?;
        out.set_item("upload_bytes", t.upload_bytes)?;
        out.set_item("downloads", t.downloads)?;
        out.set_item("download_bytes", t.download_bytes)?;
        Ok(out)
    }
}

/// A trained policy acting on numpy observations.
#[pyclass(unsendable, module = "shoal._shoal")]
struct Policy {
    inner: HostPolicy,
}

#[pymethods]
impl Policy {
    #[new]
    #[pyo3(signature = (checkpoint, num_envs=1, greedy=true, seed=0))]
    fn new(checkpoint: PathBuf, num_envs: usize, greedy: bool, seed: u64) -> PyResult<Policy> {
        Ok(Policy { inner: HostPolicy::load(&checkpoint, num_envs, greedy, seed).map_err(py_err)? })
    }

    /// The env's shapes and spaces, as the policy was trained on them (`num_envs` envs).
    fn spec<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        spec_dict(py, self.inner.spec())
    }

    /// Actions (int32 `[envs, agents]` or float32 `[envs, agents, dim]`) per agent group for
    /// float32 observations `[envs, agents, obs_dim]` per group.
    fn act<'py>(&mut self, py: Python<'py>, obs: Vec<PyReadonlyArrayDyn<'py, f32>>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let host: Vec<Vec<f32>> = obs.iter().map(|o| Ok(o.as_slice()?.to_vec())).collect::<PyResult<_>>()?;
        let actions = self.inner.act(&host).map_err(py_err)?;
        let spec = self.inner.spec();
        actions
            .into_iter()
            .zip(&spec.groups)
            .map(|(a, g)| match a {
                HostActions::Discrete(v) => Ok(v.into_pyarray(py).reshape([spec.n_envs, g.agents])?.into_any()),
                HostActions::Continuous(v) => Ok(v.into_pyarray(py).reshape([spec.n_envs, g.agents, g.action.width()])?.into_any()),
            })
            .collect()
    }
}

/// Trains a `shoal train` configuration (TOML text) into the run directory `out`, or resumes
/// the run there; returns `{env_steps, wall_seconds, final_return}`.
#[pyfunction]
#[pyo3(signature = (config_toml, out, resume=false, force=false, progress=true))]
fn train<'py>(py: Python<'py>, config_toml: Option<&str>, out: PathBuf, resume: bool, force: bool, progress: bool) -> PyResult<Bound<'py, PyDict>> {
    let config_toml = config_toml.map(str::to_owned);
    // The whole run without the GIL: other Python threads go on while the device trains.
    let summary = py
        .detach(move || -> Result<session::RunSummary, ShoalError> {
            let ctx = shoal::GpuContext::shared()?;
            let (mut learner, _lock) = if resume {
                session::resume_run(ctx, &session::run_dir(&out))?
            } else {
                let text = config_toml.ok_or_else(|| ShoalError::config("config", "None", "give a configuration (or resume=True)"))?;
                let config = TrainConfig::from_toml_str(&text, "<config>")?;
                if !force {
                    session::refuse_existing_run(&out)?;
                }
                session::start_run(ctx, config, &out)?
            };
            session::train_loop(learner.as_mut(), &out, progress)
        })
        .map_err(py_err)?;
    let result = PyDict::new(py);
    result.set_item("env_steps", summary.env_steps)?;
    result.set_item("wall_seconds", summary.wall_seconds)?;
    result.set_item("final_return", summary.final_return)?;
    Ok(result)
}

/// A configuration given as JSON (a Python dict) as `shoal train`'s TOML.
#[pyfunction]
fn config_json_to_toml(json: &str) -> PyResult<String> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| PyValueError::new_err(format!("config: {e}")))?;
    let table = toml::Table::try_from(value).map_err(|e| PyValueError::new_err(format!("config: {e} (values must be numbers, strings, booleans, lists or tables; no None)")))?;
    toml::to_string(&table).map_err(|e| PyValueError::new_err(format!("config: {e}")))
}

/// Every registered env: `[(name, about)]`.
#[pyfunction]
fn env_names() -> Vec<(&'static str, &'static str)> {
    shoal::env::EnvKind::all().iter().map(|k| (k.name(), k.entry().about)).collect()
}

/// The adapter shoal runs on (`llvmpipe (LLVM 15.0.6, 256 bits) [Cpu, Vulkan, Mesa 25.0.7]`, ...).
#[pyfunction]
fn adapter() -> PyResult<String> {
    Ok(shoal::GpuContext::shared().map_err(py_err)?.adapter_name())
}

#[pymodule]
fn _shoal(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Batch>()?;
    m.add_class::<Policy>()?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(config_json_to_toml, m)?)?;
    m.add_function(wrap_pyfunction!(env_names, m)?)?;
    m.add_function(wrap_pyfunction!(adapter, m)?)?;
    Ok(())
}
