//! One column of several runs' metrics.csv against env steps, as a PNG: a line per label (mean
//! over its runs) with a min..max band — `shoal compare`'s figure for runs that no single
//! comparison made (two pairings of simple_tag, families trained apart).
//!
//! `cargo run --release --example plot_runs -- return_adversary "title" out.png \
//!    "MADDPG predators vs DDPG prey=a/metrics.csv,b/metrics.csv" "DDPG predators vs MADDPG prey=c/metrics.csv"`

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [column, title, png, runs @ ..] = args.as_slice() else {
        anyhow::bail!("usage: plot_runs COLUMN TITLE OUT.png LABEL=metrics.csv[,metrics.csv…] …");
    };
    if runs.is_empty() {
        anyhow::bail!("name at least one LABEL=metrics.csv[,…]");
    }
    let mut series = Vec::new();
    for run in runs {
        let Some((label, paths)) = run.split_once('=') else {
            anyhow::bail!("`{run}`: expected LABEL=metrics.csv[,metrics.csv…]");
        };
        series.push((label.to_string(), paths.split(',').map(PathBuf::from).collect::<Vec<_>>()));
    }
    let y_label = format!("{column} (mean over runs; band: min..max)");
    shoal::train::session::plot_column(&series, column, title, &y_label, png.as_ref())?;
    println!("wrote {png}");
    Ok(())
}
