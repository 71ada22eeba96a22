//! The `tiegraph` binary: see `tiegraph --help`.

mod cli;

fn main() -> anyhow::Result<()> {
    cli::run()
}
