//! The command line: clap subcommands, each turning raw flags into a checked configuration
//! once, then calling the library. The only user of anyhow, for context on failures.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use tiegraph::api::{build_schema, SchemaLimits};
use tiegraph::formats::{generate, jsonl, seed};
use tiegraph::http::{self, AppState, HttpConfig};
use tiegraph::service::{ImportSummary, Limits, Service};

#[derive(Parser)]
#[command(name = "tiegraph", version, about = "A knowledge graph of ties, served over GraphQL with a citation on every hop.")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the GraphQL API (the default when no command is given).
    Serve(ServeArgs),
    /// Load a JSON-lines file into the store (stop the server first): all of it, or nothing.
    Import(ImportArgs),
    /// Write the whole graph as JSON lines, the format `import` reads.
    Export(ExportArgs),
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Write a synthetic graph (seeded, power-law degrees) as JSON lines, the format `import` reads.
    Generate(GenerateArgs),
}

#[derive(clap::Args, Clone)]
struct DataArgs {
    /// Where the store lives.
    #[arg(long, env = "TIEGRAPH_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
}

#[derive(clap::Args, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TIEGRAPH_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    data: DataArgs,
    /// Where the seed files are: imported when the store is empty.
    #[arg(long, env = "TIEGRAPH_SEED_DIR", default_value = "./seed")]
    seed_dir: PathBuf,
}

#[derive(clap::Args)]
struct ImportArgs {
    /// The JSON-lines file to load.
    file: PathBuf,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(clap::Args)]
struct ExportArgs {
    /// Where to write; standard output when absent.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(clap::Args)]
struct GenerateArgs {
    /// How many entities.
    #[arg(long, default_value_t = 10_000)]
    entities: u64,
    /// How many relations.
    #[arg(long, default_value_t = 50_000)]
    relations: u64,
    /// The generator's seed: the same seed writes the same file.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to write; standard output when absent.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        None => serve(cli.serve),
        Some(Command::Serve(args)) => serve(args),
        Some(Command::Import(args)) => import(args),
        Some(Command::Export(args)) => export(args),
        Some(Command::Generate(args)) => generate(args),
        Some(Command::Schema) => {
            print!("{}", tiegraph::api::sdl());
            Ok(())
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

fn open_service(data: &DataArgs) -> Result<Service> {
    std::fs::create_dir_all(&data.data_dir).with_context(|| format!("cannot create {}", data.data_dir.display()))?;
    Service::open(&data.data_dir, Limits::default()).with_context(|| format!("cannot open the store in {}", data.data_dir.display()))
}

fn serve(args: ServeArgs) -> Result<()> {
    init_logging();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let service = Arc::new(open_service(&args.data)?);
    if service.store().is_empty() {
        seed_empty_store(&service, &args.seed_dir)?;
    }
    tracing::info!(entities = service.entity_count(), relations = service.relation_count(), "graph loaded");
    let state = AppState {
        schema: build_schema(Arc::clone(&service), SchemaLimits::default()),
        service,
        config: HttpConfig::default(),
    };
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        tracing::info!("serving GraphQL at http://{}/graphql (GraphiQL in a browser)", listener.local_addr()?);
        http::serve(listener, state, shutdown_signal()).await.context("the server failed")?;
        tracing::info!("stopped; store flushed");
        Ok(())
    })
}

fn seed_empty_store(service: &Service, seed_dir: &Path) -> Result<()> {
    if !seed_dir.is_dir() {
        tracing::warn!("the store is empty and there is no seed directory at {}; starting empty", seed_dir.display());
        return Ok(());
    }
    for (file, summary) in seed::load_dir(service, seed_dir).context("cannot load the seed")? {
        tracing::info!(
            file,
            entities = summary.entities_created,
            relations = summary.relations_created,
            claims = summary.claims_added,
            "seeded the empty store"
        );
    }
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM, whichever comes first.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

fn import(args: ImportArgs) -> Result<()> {
    let service = open_service(&args.data)?;
    let name = args.file.display().to_string();
    let file = File::open(&args.file).with_context(|| format!("cannot open {name}"))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let reading = ProgressBar::new(size).with_style(
        ProgressStyle::with_template("reading  {bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let items = jsonl::read(BufReader::new(reading.wrap_read(file)), &name)?;
    reading.finish();
    let total = items.len() as u64;
    let checking = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("loading  {bar:40} {pos}/{len} records {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let summary = service.import(items, &|done| checking.set_position(done as u64));
    checking.finish();
    let summary = summary.with_context(|| format!("{name}: nothing was imported"))?;
    print_summary(&summary);
    Ok(())
}

fn print_summary(summary: &ImportSummary) {
    let seconds = summary.elapsed.as_secs_f64();
    let relations = summary.relations_created + summary.relations_updated;
    println!(
        "imported in {seconds:.2} s: {} entities created, {} updated; {} sources created, {} updated; \
         {} relations created, {} updated; {} claims added; {} records unchanged",
        summary.entities_created,
        summary.entities_updated,
        summary.sources_created,
        summary.sources_updated,
        summary.relations_created,
        summary.relations_updated,
        summary.claims_added,
        summary.unchanged,
    );
    if seconds > 0.0 && relations > 0 {
        println!("rate: {:.0} relations/s", relations as f64 / seconds);
    }
}

fn export(args: ExportArgs) -> Result<()> {
    if !args.data.data_dir.is_dir() {
        bail!("no store at {}", args.data.data_dir.display());
    }
    let service = open_service(&args.data)?;
    let out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(File::create(path).with_context(|| format!("cannot create {}", path.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    match jsonl::write_all(&service, BufWriter::new(out)) {
        // A closed pipe (`tiegraph export | head`) is the reader's choice, not a failure.
        Err(jsonl::WriteError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("export failed"),
    }
}

fn generate(args: GenerateArgs) -> Result<()> {
    let config = generate::GenerateConfig {
        entities: args.entities,
        relations: args.relations,
        seed: args.seed,
    };
    let out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let bar = ProgressBar::new(generate::record_count(&config)).with_style(
        ProgressStyle::with_template("generating {bar:40} {pos}/{len} records {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let out = BufWriter::with_capacity(1 << 20, out);
    let summary = generate::generate(&config, out, &mut |done| bar.set_position(done));
    bar.finish();
    let summary = match summary {
        // A closed pipe (`tiegraph generate | head`) is the reader's choice, not a failure.
        Err(generate::GenerateError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            return Ok(())
        }
        other => other.context("generation failed")?,
    };
    eprintln!(
        "wrote {} sources, {} entities, {} relations ({} denied, {} disputed), {} claims",
        summary.sources,
        summary.entities,
        summary.relations,
        summary.denied,
        summary.disputed,
        summary.claims
    );
    Ok(())
}
