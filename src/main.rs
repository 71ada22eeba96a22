//! The `tiegraph` binary: see `tiegraph --help`.

mod cli;

fn main() -> std::process::ExitCode {
    match cli::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // The chain of causes, one line, as a user reads it; never a backtrace, which
            // anyhow's default report adds whenever RUST_BACKTRACE is set.
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
