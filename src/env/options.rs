//! An env's own options, by the names its reference implementation gives them: mpe2's keyword
//! arguments (`num_good`, `num_adversaries`, `terminate_on_success`, ...).
//!
//! Options are what a scenario has beyond the keys every env shares ([`super::EnvParams`]):
//! population sizes, early termination. They come from `--env-option KEY=VALUE`, from a run's
//! `[env_options]` table, and from a recorded trajectory's `kwargs` — the same names in all
//! three, so that a PettingZoo call `simple_tag_v3.parallel_env(num_adversaries=6)` reads as
//! `--env-option num_adversaries=6`. Each env declares the options it takes ([`EnvOption`]);
//! an option no env of that name takes is an error that lists the ones it does, so a typo never
//! trains the default silently.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Result, ShoalError};

/// One option an env takes: its name and what it sets (with its default), for errors and help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvOption {
    /// The reference implementation's keyword (`num_good`).
    pub name: &'static str,
    /// What it sets, with the default (`good agents (prey); default 1`).
    pub about: &'static str,
}

/// mpe2's `N` where it is the agent count (simple_spread, simple_line, simple_formation): the
/// same as `agents`, so that a recorded `kwargs` or a PettingZoo habit reads as it should.
pub const N_AGENTS: EnvOption = EnvOption { name: "N", about: "agents per env (the same as --agents)" };

/// An option's value: TOML's and JSON's scalars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OptionValue {
    /// `true` / `false`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A number with a fraction.
    Float(f64),
    /// A name (`network=sioux_falls`).
    Text(String),
}

impl std::fmt::Display for OptionValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OptionValue::Bool(v) => write!(f, "{v}"),
            OptionValue::Int(v) => write!(f, "{v}"),
            OptionValue::Float(v) => write!(f, "{v:?}"),
            OptionValue::Text(v) => f.write_str(v),
        }
    }
}

/// The options of one env, by name (empty: every option at its default).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EnvOptions(BTreeMap<String, OptionValue>);

impl EnvOptions {
    /// No options: every one at its default.
    pub fn new() -> EnvOptions {
        EnvOptions::default()
    }

    /// `KEY=VALUE` items (`num_good=2`, `terminate_on_success=true`), as `--env-option` takes
    /// them; later items replace earlier ones.
    pub fn parse(items: &[String]) -> Result<EnvOptions> {
        let mut options = EnvOptions::new();
        for item in items {
            let Some((key, value)) = item.split_once('=') else {
                return Err(ShoalError::config("env-option", item, "expected KEY=VALUE, e.g. --env-option num_good=2"));
            };
            let value = value.trim();
            let parsed = match value {
                "true" => OptionValue::Bool(true),
                "false" => OptionValue::Bool(false),
                _ => match (value.parse::<i64>(), value.parse::<f64>()) {
                    (Ok(v), _) => OptionValue::Int(v),
                    (_, Ok(v)) if v.is_finite() => OptionValue::Float(v),
                    (_, Ok(_)) => return Err(ShoalError::config("env-option", item, "the value must be a finite number, true, false or a name")),
                    // A name; an option that wants a number says so when it is read.
                    _ if !value.is_empty() => OptionValue::Text(value.to_string()),
                    _ => return Err(ShoalError::config("env-option", item, "the value is empty")),
                },
            };
            options.set(key.trim(), parsed);
        }
        Ok(options)
    }

    /// Sets `name` (replacing its value).
    pub fn set(&mut self, name: &str, value: OptionValue) {
        self.0.insert(name.to_string(), value);
    }

    /// Whether no option is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `(name, value)` in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &OptionValue)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// These options merged over `self` (theirs win).
    pub fn merged(&self, over: &EnvOptions) -> EnvOptions {
        let mut out = self.clone();
        out.0.extend(over.0.iter().map(|(k, v)| (k.clone(), v.clone())));
        out
    }

    /// Checks that the env whose options are `known` takes every option set, naming the first
    /// it does not and the ones it does.
    pub fn check_known(&self, known: &'static [EnvOption]) -> Result<()> {
        match self.0.keys().find(|k| !known.iter().any(|o| o.name == k.as_str())) {
            None => Ok(()),
            Some(key) if known.is_empty() => Err(ShoalError::config("env_options", key, "this env takes no options")),
            Some(key) => {
                let names: Vec<String> = known.iter().map(|o| format!("{} ({})", o.name, o.about)).collect();
                Err(ShoalError::config("env_options", key, format!("this env has no such option; it takes: {}", names.join(", "))))
            }
        }
    }

    /// Option `option` as a count in `range`, `default` when not set.
    pub fn count(&self, option: &EnvOption, default: usize, range: std::ops::RangeInclusive<usize>) -> Result<usize> {
        let value = match self.0.get(option.name) {
            None => return Ok(default),
            Some(&OptionValue::Int(v)) if v >= 0 => v as usize,
            Some(v) => return Err(ShoalError::config(option.name, v, format!("must be a whole number in {}..={}", range.start(), range.end()))),
        };
        if !range.contains(&value) {
            return Err(ShoalError::config(option.name, value, format!("must be in {}..={}", range.start(), range.end())));
        }
        Ok(value)
    }

    /// [`N_AGENTS`] where it is set; an error when `agents` says otherwise.
    pub fn agents_alias(&self, agents: usize) -> Result<Option<usize>> {
        if !self.0.contains_key(N_AGENTS.name) {
            return Ok(None);
        }
        let n = self.count(&N_AGENTS, agents, 1..=1 << 24)?;
        if n != agents {
            return Err(ShoalError::config("agents", agents, format!("the option N is {n}: set agents = {n}, or leave it out")));
        }
        Ok(Some(n))
    }

    /// [`N_AGENTS`] where it is set, unchecked (what the options say the population is).
    pub fn n_agents(&self) -> Result<Option<usize>> {
        match self.0.contains_key(N_AGENTS.name) {
            true => self.count(&N_AGENTS, 0, 1..=1 << 24).map(Some),
            false => Ok(None),
        }
    }

    /// Option `option` as a name, `default` when not set.
    pub fn text(&self, option: &EnvOption, default: &str) -> Result<String> {
        match self.0.get(option.name) {
            None => Ok(default.to_string()),
            Some(OptionValue::Text(v)) => Ok(v.clone()),
            Some(v) => Err(ShoalError::config(option.name, v, "must be a name")),
        }
    }

    /// Option `option` as a finite number, `default` when not set.
    pub fn number(&self, option: &EnvOption, default: f64) -> Result<f64> {
        match self.0.get(option.name) {
            None => Ok(default),
            Some(&OptionValue::Float(v)) => Ok(v),
            Some(&OptionValue::Int(v)) => Ok(v as f64),
            Some(v) => Err(ShoalError::config(option.name, v, "must be a number")),
        }
    }

    /// Option `option` as a positive number, `default` when not set.
    pub fn positive(&self, option: &EnvOption, default: Option<f64>) -> Result<Option<f64>> {
        match self.0.get(option.name) {
            None => Ok(default),
            Some(&OptionValue::Float(v)) if v > 0.0 => Ok(Some(v)),
            Some(&OptionValue::Int(v)) if v > 0 => Ok(Some(v as f64)),
            Some(v) => Err(ShoalError::config(option.name, v, "must be a positive number")),
        }
    }

    /// Option `option` as a flag, `default` when not set.
    pub fn flag(&self, option: &EnvOption, default: bool) -> Result<bool> {
        match self.0.get(option.name) {
            None => Ok(default),
            Some(&OptionValue::Bool(v)) => Ok(v),
            Some(v) => Err(ShoalError::config(option.name, v, "must be true or false")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: EnvOption = EnvOption { name: "num_good", about: "good agents; default 1" };
    const END: EnvOption = EnvOption { name: "terminate_on_success", about: "end early; default false" };

    #[test]
    fn parses_reads_and_rejects() {
        let options = EnvOptions::parse(&["num_good=3".into(), "terminate_on_success=true".into()]).unwrap();
        assert_eq!(options.count(&GOOD, 1, 1..=8).unwrap(), 3);
        assert!(options.flag(&END, false).unwrap());
        assert_eq!(EnvOptions::new().count(&GOOD, 1, 1..=8).unwrap(), 1);
        assert!(options.count(&GOOD, 1, 1..=2).unwrap_err().to_string().contains("num_good"));
        assert!(options.flag(&GOOD, false).is_err(), "a count is not a flag");
        assert!(EnvOptions::parse(&["num_good".into()]).is_err());
        // A name parses; the option that wants a count refuses it by name.
        let named = EnvOptions::parse(&["num_good=lots".into()]).unwrap();
        assert!(named.count(&GOOD, 1, 1..=8).unwrap_err().to_string().contains("num_good"));
        assert_eq!(named.text(&GOOD, "x").unwrap(), "lots");
        assert!(EnvOptions::parse(&["num_good=".into()]).is_err());
        assert!(EnvOptions::parse(&["num_good=inf".into()]).is_err());
        let typo = EnvOptions::parse(&["num_goods=2".into()]).unwrap();
        let message = typo.check_known(&[GOOD, END]).unwrap_err().to_string();
        assert!(message.contains("num_goods") && message.contains("num_good ("), "{message}");
        assert!(options.check_known(&[GOOD, END]).is_ok());
        assert!(options.check_known(&[]).unwrap_err().to_string().contains("takes no options"));
    }

    #[test]
    fn round_trips_through_toml_and_json() {
        let options = EnvOptions::parse(&["num_good=2".into(), "terminate_on_success=false".into()]).unwrap();
        let json = serde_json::to_string(&options).unwrap();
        assert_eq!(serde_json::from_str::<EnvOptions>(&json).unwrap(), options);
        #[derive(Serialize, Deserialize)]
        struct Wrapper {
            env_options: EnvOptions,
        }
        let text = toml::to_string(&Wrapper { env_options: options.clone() }).unwrap();
        assert_eq!(toml::from_str::<Wrapper>(&text).unwrap().env_options, options);
    }
}
