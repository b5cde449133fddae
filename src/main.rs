//! The `shoal` command line: one subcommand per module in `src/cli/`.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    contain_panics();
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// A panic — on this thread or on the GPU runtime's, which would otherwise catch it and leave
/// this one waiting — ends the process with an error that says what to check, not a backtrace
/// (`RUST_BACKTRACE=1` still gets one, for a bug report). shoal validates what it can before
/// launching anything; this is the net under what it cannot.
fn contain_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
            default(info);
        }
        let thread = std::thread::current().name().unwrap_or("unnamed").to_string();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".into());
        let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!(
            "error: internal failure on thread `{thread}`{place}: {message}\n\
             what to check: sizes against the adapter's limits (envs, agents, hidden, rollout_steps), \
             the files given (a damaged checkpoint?), the GPU driver. This is a bug in shoal if none \
             of these explains it: please report it with the command (RUST_BACKTRACE=1 adds a backtrace)."
        );
        std::process::exit(70);
    }));
}
