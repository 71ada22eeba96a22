//! The command line: clap subcommands, each turning raw flags into a checked configuration
//! once, then calling the library. The only user of anyhow, for context on failures.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use tiegraph::api::{Api, ExportPolicy, SchemaLimits, SocketLimits};
use tiegraph::formats::export::{ExportFormat, ExportPlan, Scope};
use tiegraph::formats::{
    csv_import, ftm, generate, jsonl, littlesis, seed, usaspending, ImportBatch,
};
use tiegraph::graph::BudgetLimits;
use tiegraph::http::{self, Access, AppState, HttpConfig, Token};
use tiegraph::replication;
use tiegraph::service::{ImportSummary, Limits, Role, SearchLimits, Service};

#[derive(Parser)]
#[command(
    name = "tiegraph",
    version,
    about = "A knowledge graph of ties, served over GraphQL with a citation on every hop."
)]
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
    /// Load a file into the store (stop the server first): all of it, or nothing.
    Import(ImportArgs),
    /// Write the graph, or part of it, as JSON lines (the format `import` reads) or for
    /// Cytoscape.js, graphology, NetworkX, Gephi (GraphML, GEXF) and spreadsheets (CSV).
    Export(ExportArgs),
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Write a consistent backup: online from a running server (--server), or from a stopped
    /// store (--data-dir). Written to FILE.partial, checked whole, then renamed to FILE.
    Backup(BackupArgs),
    /// Restore a backup into an empty data directory (the server stopped).
    Restore(RestoreArgs),
    /// Ask a running server whether it is healthy: exits 0 if it is (for container health checks).
    Health {
        /// The server's address.
        #[arg(long, env = "TIEGRAPH_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
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
    /// A file holding the bearer token writes need (the token may also come in TIEGRAPH_TOKEN).
    /// Without a token, writes are open and the server only listens on loopback.
    #[arg(long, env = "TIEGRAPH_TOKEN_FILE")]
    token_file: Option<PathBuf>,
    /// Reads need the token too: GraphQL, the websocket, exports, `/metrics`, and the counts in
    /// `/health`.
    #[arg(long, env = "TIEGRAPH_READ_TOKEN_REQUIRED")]
    read_token_required: bool,
    /// A file holding a token that may read `/metrics` and nothing else (the token may also
    /// come in TIEGRAPH_METRICS_TOKEN). When set, `/metrics` needs it or the write token.
    #[arg(long, env = "TIEGRAPH_METRICS_TOKEN_FILE")]
    metrics_token_file: Option<PathBuf>,
    /// An origin allowed by CORS (repeatable; comma-separated in the environment). Any origin
    /// when none is given.
    #[arg(
        long = "cors-origin",
        env = "TIEGRAPH_CORS_ORIGINS",
        value_delimiter = ','
    )]
    cors_origins: Vec<String>,
    /// Turn off introspection (`__schema`, `__type`); GraphiQL then cannot show the schema.
    #[arg(long, env = "TIEGRAPH_NO_INTROSPECTION")]
    no_introspection: bool,
    /// GraphQL operations (HTTP and websocket) and exports answered at once; more get 503
    /// rather than wait in a queue.
    #[arg(long, env = "TIEGRAPH_MAX_CONCURRENCY", default_value_t = 256)]
    max_concurrency: usize,
    /// Exports built at once (each is built in memory); more get 503.
    #[arg(long, env = "TIEGRAPH_MAX_CONCURRENT_EXPORTS", default_value_t = 2)]
    max_concurrent_exports: usize,
    /// Seconds a read may take before it is answered 408. Requests that write are answered
    /// with their outcome however long they take.
    #[arg(long, env = "TIEGRAPH_REQUEST_TIMEOUT", default_value_t = 30)]
    request_timeout: u64,
    /// Open connections (websockets included); more are answered 503 and closed. Keep it
    /// well under the open-file limit (`ulimit -n`).
    #[arg(long, env = "TIEGRAPH_MAX_CONNECTIONS", default_value_t = 512)]
    max_connections: usize,
    /// Seconds a client may take to send a request's head, and an idle keep-alive connection
    /// stays open.
    #[arg(long, env = "TIEGRAPH_HEADER_TIMEOUT", default_value_t = 10)]
    header_timeout: u64,
    /// Seconds the server waits for a client to read what it sends (an answer, a backup, a
    /// websocket message) before dropping the connection.
    #[arg(long, env = "TIEGRAPH_WRITE_TIMEOUT", default_value_t = 30)]
    write_timeout: u64,
    /// Seconds shutdown waits for requests under way before closing their connections.
    #[arg(long, env = "TIEGRAPH_SHUTDOWN_GRACE", default_value_t = 10)]
    shutdown_grace: u64,
    /// Subscriptions open at once across all websockets; more are refused.
    #[arg(long, env = "TIEGRAPH_MAX_SUBSCRIPTIONS", default_value_t = 1_000)]
    max_subscriptions: usize,
    /// Operations (subscriptions included) one websocket may run at once.
    #[arg(long, env = "TIEGRAPH_MAX_SOCKET_OPERATIONS", default_value_t = 16)]
    max_socket_operations: usize,
    /// Deepest nesting of fields in a query, fragments expanded.
    #[arg(long, env = "TIEGRAPH_MAX_DEPTH", default_value_t = 16)]
    max_depth: usize,
    /// Highest complexity of a query (each field 1, list and search fields times their page size).
    #[arg(long, env = "TIEGRAPH_MAX_COMPLEXITY", default_value_t = 50_000)]
    max_complexity: usize,
    /// Most fields in a query once its fragments are expanded (aliases and spreads counted).
    #[arg(long, env = "TIEGRAPH_MAX_FIELDS", default_value_t = 2_000)]
    max_fields: usize,
    /// A whole-graph export of a graph with more relations than this is refused (0: no limit).
    /// Whole-graph exports are built in memory, about 12 KB per relation at peak.
    #[arg(long, env = "TIEGRAPH_MAX_EXPORT_RELATIONS", default_value_t = 100_000)]
    max_export_relations: usize,
    /// Whole-graph exports need the write token.
    #[arg(long, env = "TIEGRAPH_EXPORT_ALL_NEEDS_TOKEN")]
    export_all_needs_token: bool,
    /// Milliseconds a single graph search may take before it returns a partial answer.
    #[arg(long, env = "TIEGRAPH_SEARCH_MILLIS", default_value_t = 5_000)]
    search_millis: u64,
    /// Relations a single graph search may examine before it returns a partial answer.
    #[arg(long, env = "TIEGRAPH_SEARCH_VISITS", default_value_t = 2_000_000)]
    search_visits: u64,
    /// Graph searches that run at once (default: one per core); more wait their turn. With the
    /// search budget, this bounds the memory searches take.
    #[arg(long, env = "TIEGRAPH_SEARCHES")]
    searches: Option<usize>,
    /// Graph searches that may wait for their turn; more are refused with UNAVAILABLE.
    #[arg(long, env = "TIEGRAPH_SEARCH_QUEUE", default_value_t = 256)]
    search_queue: usize,
    /// The change log, a PostgreSQL connection string (`postgres://user:password@host/db`):
    /// with it, this server is the log's writer or one of its read replicas (--role).
    /// Without it, one server alone, as by default.
    #[arg(long = "log", env = "TIEGRAPH_LOG_URL")]
    log: Option<String>,
    /// With --log: `writer` (takes writes; each commit goes into the log before it is
    /// acknowledged) or `replica` (follows the log and answers reads; writes are refused,
    /// naming the writer).
    #[arg(long, env = "TIEGRAPH_ROLE", value_enum)]
    role: Option<RoleArg>,
    /// With --role writer: its address as clients reach it (`http://writer.example:8080`),
    /// named in the refusal a write sent to a replica gets. Default: http://LISTEN.
    #[arg(long, env = "TIEGRAPH_ADVERTISE_URL")]
    advertise: Option<String>,
    /// With --role writer: write a checkpoint every this many commits, dropping the log rows
    /// it covers (0: only when asked, `POST /admin/checkpoint`).
    #[arg(long, env = "TIEGRAPH_CHECKPOINT_EVERY", default_value_t = 100_000)]
    checkpoint_every: u64,
    /// With --role replica: `/ready` answers 503 until the replica is at most this many
    /// commits behind the log's head.
    #[arg(long, env = "TIEGRAPH_MAX_LAG", default_value_t = 100)]
    max_lag: u64,
    /// Seconds a query carrying `minSequence` waits for this server to apply that commit.
    #[arg(long, env = "TIEGRAPH_MAX_SEQUENCE_WAIT", default_value_t = 5)]
    max_sequence_wait: u64,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum RoleArg {
    Writer,
    Replica,
}

impl ServeArgs {
    /// The token from TIEGRAPH_TOKEN or the token file; an empty one is no token.
    fn token(&self) -> Result<Option<Token>> {
        token_from(self.token_file.as_deref(), "TIEGRAPH_TOKEN")
    }

    /// The metrics token from TIEGRAPH_METRICS_TOKEN or its file.
    fn metrics_token(&self) -> Result<Option<Token>> {
        token_from(self.metrics_token_file.as_deref(), "TIEGRAPH_METRICS_TOKEN")
    }
}

/// A token from `file` or else the variable `env`; `None` when neither is set, an error when
/// the one set is empty (a blank token would let anyone in).
fn token_from(file: Option<&Path>, env: &str) -> Result<Option<Token>> {
    let secret = match (file, std::env::var(env)) {
        (Some(path), _) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the token file {}", path.display()))?,
        (None, Ok(secret)) => secret,
        (None, Err(_)) => return Ok(None),
    };
    match Token::new(secret) {
        Some(token) => Ok(Some(token)),
        None => bail!("the configured token ({env} or its file) is empty"),
    }
}

#[derive(clap::Args)]
struct ImportArgs {
    /// The file to load (jsonl, ftm, littlesis or usaspending); csv takes --nodes and --edges
    /// instead.
    #[arg(required_unless_present_any = ["nodes", "edges"])]
    file: Option<PathBuf>,
    /// What the input holds: jsonl (tiegraph's JSON lines), ftm (FollowTheMoney entity JSON
    /// lines; see docs/ftm-mapping.md), littlesis (LittleSis's bulk entities and relationships
    /// JSON, gunzipped: one file, or both concatenated; see docs/littlesis-mapping.md), csv (a
    /// nodes file and an edges file in the columns `export --format csv-nodes` and `csv-edges`
    /// write) or usaspending (one CSV of a USAspending.gov contracts download, prime award
    /// summaries or prime transactions: unzip the download first, the ZIP is not read; see
    /// docs/usaspending-mapping.md).
    #[arg(long, value_enum, default_value_t = ImportFormat::Jsonl)]
    format: ImportFormat,
    /// With --format csv: the nodes file.
    #[arg(long, requires = "edges")]
    nodes: Option<PathBuf>,
    /// With --format csv: the edges file.
    #[arg(long, requires = "nodes")]
    edges: Option<PathBuf>,
    /// Send the file to a running server instead (jsonl, up to 256 MiB; needs its token:
    /// TIEGRAPH_TOKEN or --token-file): host:port, a host name (port 8080) or an http:// URL.
    #[arg(long, value_parser = parse_server)]
    server: Option<SocketAddr>,
    /// A file holding the server's token, with --server.
    #[arg(long, env = "TIEGRAPH_TOKEN_FILE", requires = "server")]
    token_file: Option<PathBuf>,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum ImportFormat {
    Jsonl,
    Ftm,
    Littlesis,
    Csv,
    Usaspending,
}

#[derive(clap::Args)]
struct BackupArgs {
    /// Where to write the backup.
    #[arg(long)]
    out: PathBuf,
    /// A running server: back it up online (needs its token: TIEGRAPH_TOKEN or --token-file).
    /// host:port, a host name (port 8080) or an http:// URL.
    #[arg(long, conflicts_with = "data_dir", value_parser = parse_server)]
    server: Option<SocketAddr>,
    /// A stopped store to back up.
    #[arg(long, env = "TIEGRAPH_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// A file holding the server's token.
    #[arg(long, env = "TIEGRAPH_TOKEN_FILE")]
    token_file: Option<PathBuf>,
}

#[derive(clap::Args)]
struct RestoreArgs {
    /// The backup to restore.
    file: PathBuf,
    /// The data directory to create; it must not hold a store yet.
    #[arg(long, env = "TIEGRAPH_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
}

#[derive(clap::Args)]
struct ExportArgs {
    /// Where to write; standard output when absent.
    #[arg(long, conflicts_with = "out_dir")]
    out: Option<PathBuf>,
    /// jsonl (the import format, the whole graph), cytoscape, graphology, node-link, graphml,
    /// gexf, csv-nodes, csv-edges, or csv (both CSV files, into --out-dir).
    #[arg(long, default_value = "jsonl")]
    format: String,
    /// With --format csv: the folder to write tiegraph-nodes.csv and tiegraph-edges.csv into.
    #[arg(long)]
    out_dir: Option<PathBuf>,
    /// What to export: all, neighborhood (of --id, within --depth) or paths (from --from
    /// following --pattern, a JSON list of hops as GraphQL's `pattern`, optionally --to).
    #[arg(long, default_value = "all")]
    scope: String,
    /// The neighbourhood's centre.
    #[arg(long)]
    id: Option<String>,
    /// How many relations out the neighbourhood goes (default 1).
    #[arg(long)]
    depth: Option<u32>,
    /// Only cross relations of these kinds, comma-separated (VENDOR_TO,PART_OF).
    #[arg(long)]
    relation_kinds: Option<String>,
    /// Where paths start.
    #[arg(long)]
    from: Option<String>,
    /// The hops paths follow, as JSON: '[{"relationKinds":["VENDOR_TO"],"direction":"IN"}]'.
    #[arg(long)]
    pattern: Option<String>,
    /// Only paths ending here.
    #[arg(long)]
    to: Option<String>,
    /// Also cross relations whose every claim denies them (scope all always has them).
    #[arg(long)]
    include_denied: bool,
    /// Ask a running server instead of opening the store: host:port, a host name (port 8080)
    /// or an http:// URL.
    #[arg(long, value_parser = parse_server)]
    server: Option<SocketAddr>,
    /// A file holding the server's token, with --server (when its reads need one).
    #[arg(long, env = "TIEGRAPH_TOKEN_FILE", requires = "server")]
    token_file: Option<PathBuf>,
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
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    refuse_serve_flags_before_a_command(&matches)?;
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
        Some(Command::Health { listen }) => health(listen),
        Some(Command::Backup(args)) => backup(args),
        Some(Command::Restore(args)) => restore(args),
    }
}

/// The serve flags (`--data-dir`, `--listen`, ...) are accepted before any command because
/// `tiegraph` alone serves; before another command they would be silently ignored (an import
/// into `./data` while `--data-dir` said elsewhere), so they are refused with where they go.
fn refuse_serve_flags_before_a_command(matches: &clap::ArgMatches) -> Result<()> {
    let Some((command, _)) = matches.subcommand() else {
        return Ok(());
    };
    let top_level = Cli::command();
    let misplaced: Vec<String> = top_level
        .get_arguments()
        .map(|arg| arg.get_id().as_str())
        .filter(|id| given(matches, id))
        .map(|id| format!("--{}", id.replace('_', "-")))
        .collect();
    if misplaced.is_empty() {
        return Ok(());
    }
    bail!(
        "{} must come after the command: `tiegraph {command} {} ...` (before a command they would apply to nothing)",
        misplaced.join(", "),
        misplaced.join(" ... "),
    )
}

/// A server named the ways people write one: `127.0.0.1:8080`, `localhost:8080`, `localhost`
/// (port 8080) or `http://localhost:8080/`.
fn parse_server(text: &str) -> std::result::Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    if text.starts_with("https://") {
        return Err(
            "this client speaks plain HTTP; give the server's http:// address or host:port".into(),
        );
    }
    let bare = text.strip_prefix("http://").unwrap_or(text);
    let bare = bare.split('/').next().unwrap_or_default();
    if bare.is_empty() {
        return Err("give the server as host:port, a host name or an http:// URL".into());
    }
    let has_port = bare
        .rsplit_once(':')
        .is_some_and(|(host, port)| port.parse::<u16>().is_ok() && !host.ends_with(':'));
    let with_port = if has_port {
        bare.to_owned()
    } else {
        format!("{bare}:8080")
    };
    with_port
        .to_socket_addrs()
        .map_err(|e| format!("cannot find the server `{text}`: {e}"))?
        .next()
        .ok_or_else(|| format!("`{text}` names no address"))
}

/// Whether a flag was typed on the command line (not a default or the environment).
fn given(matches: &clap::ArgMatches, id: &str) -> bool {
    matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
}

/// A bare HTTP/1.1 GET of /health, so the container image needs no curl.
fn health(listen: SocketAddr) -> Result<()> {
    use std::io::Read;
    use std::time::Duration;
    // A server listening on every interface is reached on loopback.
    let address = if listen.ip().is_unspecified() {
        SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), listen.port())
    } else {
        listen
    };
    let mut stream = std::net::TcpStream::connect_timeout(&address, Duration::from_secs(3))
        .with_context(|| format!("nothing answers at {address}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(3)))?;
    write!(
        stream,
        "GET /health HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    if answer.starts_with("HTTP/1.1 200") {
        println!("{}", answer.split("\r\n\r\n").nth(1).unwrap_or_default());
        Ok(())
    } else {
        bail!(
            "unhealthy: {}",
            answer.lines().next().unwrap_or("no answer")
        )
    }
}

fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    // Whatever RUST_LOG says, the targets that log message contents at trace (the websocket
    // library: `connection_init` tokens) stay at debug.
    let quiet = tracing_subscriber::filter::filter_fn(|metadata| {
        *metadata.level() != tracing::Level::TRACE
            || !http::QUIET_LOG_TARGETS.iter().any(|target| {
                metadata
                    .target()
                    .strip_prefix(target)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
            })
    });
    // The level filter goes outside: its level is the one the subscriber reports as its
    // most verbose, and the `log` records of sled (a trace record for nearly every page it
    // reads) are then turned away at that level, before any filter runs. With the
    // predicate outside, every one of them went through both filters.
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(quiet)
                .with_filter(filter),
        )
        .init();
}

fn open_service(data: &DataArgs, limits: Limits) -> Result<Service> {
    std::fs::create_dir_all(&data.data_dir)
        .with_context(|| format!("cannot create {}", data.data_dir.display()))?;
    Service::open(&data.data_dir, limits)
        .with_context(|| format!("cannot open the store in {}", data.data_dir.display()))
}

/// The store in `data`, for a command that writes to it: refused when the directory follows
/// a change log, since a commit made here would be one the log never had.
fn writable_service(data: &DataArgs, limits: Limits) -> Result<Service> {
    if let Some(log) = replication::joined_log(&data.data_dir) {
        bail!(
            "{} follows the change log at {log}: write through its writer (`serve --log ... --role writer`, or `import --server WRITER`), not into the directory",
            data.data_dir.display()
        );
    }
    open_service(data, limits)
}

fn serve(args: ServeArgs) -> Result<()> {
    init_logging();
    let access = Access {
        write_token: args.token()?,
        reads_need_token: args.read_token_required,
        metrics_token: args.metrics_token()?,
    };
    // Checked before anything is opened: a refused configuration touches nothing.
    http::check_exposure(args.listen, &access)?;
    if access.write_token.is_none() {
        tracing::warn!(
            "no token configured: writes are open to anyone who can reach {} (loopback only)",
            args.listen
        );
    }
    let limits = Limits {
        budget: BudgetLimits {
            max_visits: args.search_visits,
            max_time: Duration::from_millis(args.search_millis),
        },
        searches: SearchLimits {
            running: args
                .searches
                .unwrap_or(SearchLimits::default().running)
                .max(1),
            waiting: args.search_queue,
            ..SearchLimits::default()
        },
        ..Limits::default()
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let node = match (&args.log, args.role) {
        (None, None) => None,
        (None, Some(_)) => {
            bail!("--role needs --log: the change log the writer and its replicas share")
        }
        (Some(_), None) => bail!("--log needs --role writer or --role replica"),
        (Some(log), Some(role)) => {
            let config = replication::Config {
                role: match role {
                    RoleArg::Writer => Role::Writer,
                    RoleArg::Replica => Role::Replica,
                },
                log_url: log.clone(),
                data_dir: args.data.data_dir.clone(),
                advertise: Some(
                    args.advertise
                        .clone()
                        .unwrap_or_else(|| format!("http://{}", args.listen)),
                ),
                checkpoint_every: args.checkpoint_every,
                connect_wait: Duration::from_secs(60),
            };
            std::fs::create_dir_all(&args.data.data_dir)
                .with_context(|| format!("cannot create {}", args.data.data_dir.display()))?;
            let open = |dir: &Path| Service::open(dir, limits);
            let seed = |service: &Service| {
                seed_empty_store(service, &args.seed_dir).map_err(|e| format!("{e:#}"))
            };
            Some(replication::start(&config, &open, &seed).context("cannot take part in the log")?)
        }
    };
    let service = match &node {
        Some(node) => Arc::clone(node.service()),
        None => {
            let service = Arc::new(writable_service(&args.data, limits)?);
            if service.is_empty() {
                seed_empty_store(&service, &args.seed_dir)?;
            }
            service
        }
    };
    tracing::info!(
        entities = service.entity_count(),
        relations = service.relation_count(),
        "graph loaded"
    );
    let schema_limits = SchemaLimits {
        introspection: !args.no_introspection,
        max_depth: args.max_depth,
        max_complexity: args.max_complexity,
        max_fields: args.max_fields,
        export: ExportPolicy {
            whole_graph_needs_token: args.export_all_needs_token,
            max_whole_graph_relations: args.max_export_relations,
            max_concurrent: args.max_concurrent_exports,
        },
        max_sequence_wait: Duration::from_secs(args.max_sequence_wait),
        ..SchemaLimits::default()
    };
    let config = HttpConfig {
        max_concurrency: args.max_concurrency,
        request_timeout: Duration::from_secs(args.request_timeout),
        max_connections: args.max_connections,
        header_timeout: Duration::from_secs(args.header_timeout),
        write_timeout: Duration::from_secs(args.write_timeout),
        shutdown_grace: Duration::from_secs(args.shutdown_grace),
        max_subscriptions: args.max_subscriptions,
        socket: SocketLimits {
            max_operations_per_connection: args.max_socket_operations,
        },
        cors_origins: args.cors_origins.clone(),
        access,
        max_lag: args.max_lag,
        ..HttpConfig::default()
    };
    let state = AppState::new(
        Api::new(Arc::clone(&service), schema_limits),
        service,
        config,
    );
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let address = listener.local_addr()?;
        tracing::info!(
            "serving GraphQL at http://{address}/graphql; in a browser: the explorer at http://{address}/explorer, GraphiQL at http://{address}/"
        );
        http::serve(listener, state, shutdown_signal())
            .await
            .context("the server failed")?;
        tracing::info!("stopped; store flushed");
        Ok(())
    });
    if let Some(node) = node {
        node.stop();
    }
    // The store is flushed; work left on the blocking pool (a search ending within its budget,
    // a write that will not be acknowledged) is not waited for longer than this.
    runtime.shutdown_timeout(Duration::from_secs(5));
    served
}

fn seed_empty_store(service: &Service, seed_dir: &Path) -> Result<()> {
    if !seed_dir.is_dir() {
        tracing::warn!(
            "the store is empty and there is no seed directory at {}; starting empty",
            seed_dir.display()
        );
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
    // Warnings (a rolled-back interrupted import, a damaged snapshot) go to stderr.
    init_logging();
    if let Some(server) = args.server {
        return import_through_server(server, &args);
    }
    if args.format != ImportFormat::Jsonl {
        return import_batch(args);
    }
    let Some(file) = args.file.clone() else {
        bail!("give the file to import")
    };
    let service = writable_service(&args.data, Limits::default())?;
    import_file(&service, &file)
}

/// FtM, CSV and USAspending: read into a batch that remembers each record's file and line,
/// then import it.
fn import_batch(args: ImportArgs) -> Result<()> {
    let open =
        |path: &Path| File::open(path).with_context(|| format!("cannot open {}", path.display()));
    let service = writable_service(&args.data, Limits::default())?;
    let batch: ImportBatch = match (args.format, &args.file, &args.nodes, &args.edges) {
        (ImportFormat::Csv, None, Some(nodes), Some(edges)) => csv_import::read(
            BufReader::new(open(nodes)?),
            &nodes.display().to_string(),
            BufReader::new(open(edges)?),
            &edges.display().to_string(),
        )?,
        (ImportFormat::Csv, ..) => {
            bail!("--format csv takes --nodes FILE --edges FILE (and no other file)")
        }
        (ImportFormat::Ftm, Some(file), None, None) => {
            let known = |slug: &str| service.entity(slug).ok().flatten().map(|e| e.kind);
            ftm::read(
                BufReader::new(open(file)?),
                &file.display().to_string(),
                &known,
            )?
        }
        (ImportFormat::Littlesis, Some(file), None, None) => {
            // Relationships may name entities an earlier file (entities.json) brought in.
            let known = |id: u64| service.entity_holding("littlesis", &id.to_string());
            littlesis::read(
                BufReader::new(open(file)?),
                &file.display().to_string(),
                &known,
            )?
        }
        (ImportFormat::Usaspending, Some(file), None, None) => read_usaspending(&service, file)?,
        _ => bail!(
            "--format {} takes one FILE and no --nodes/--edges",
            match args.format {
                ImportFormat::Ftm => "ftm",
                ImportFormat::Littlesis => "littlesis",
                ImportFormat::Usaspending => "usaspending",
                _ => "jsonl",
            }
        ),
    };
    for note in &batch.notes {
        eprintln!("note: {note}");
    }
    let checking = ProgressBar::new(batch.len() as u64).with_style(
        ProgressStyle::with_template("loading  {bar:40} {pos}/{len} records {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let summary = batch.import(&service, &|_, done| checking.set_position(done));
    checking.finish();
    let summary = summary.context("nothing was imported")?;
    print_summary(&summary);
    Ok(())
}

/// Reads a USAspending CSV with a bar over the file's bytes: rows are folded into awards as
/// they are read, so this pass is where a big file's time goes. The relations' stored claims
/// are read from the service, so that an overlapping download sums each award once.
fn read_usaspending(service: &Service, path: &Path) -> Result<ImportBatch> {
    let name = path.display().to_string();
    let file = File::open(path).with_context(|| format!("cannot open {name}"))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = ProgressBar::new(size).with_style(
        ProgressStyle::with_template(
            "reading  {bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    // A store that cannot be read would make the sums wrong: the first failure is kept and
    // ends the import once the file is read.
    let failed = std::cell::RefCell::new(None);
    let existing = |relation: &str| -> Vec<String> {
        match service.relation(relation) {
            Ok(record) => record
                .map(|r| r.claims.into_iter().map(|c| c.quote).collect())
                .unwrap_or_default(),
            Err(e) => {
                failed.borrow_mut().get_or_insert(e);
                Vec::new()
            }
        }
    };
    let batch = usaspending::read(
        BufReader::with_capacity(1 << 20, bar.wrap_read(file)),
        &name,
        &existing,
        &|draft| service.resolved_id(draft),
    );
    bar.finish_and_clear();
    if let Some(error) = failed.into_inner() {
        return Err(error).context("cannot read the relations the file's awards join");
    }
    Ok(batch?)
}

/// Posts the file to `/admin/import` over HTTP/1.0 and prints the server's answer.
fn import_through_server(server: SocketAddr, args: &ImportArgs) -> Result<()> {
    use std::io::Read;
    let (Some(path), ImportFormat::Jsonl) = (&args.file, args.format) else {
        bail!("through a server, import takes one jsonl file");
    };
    let body = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let token = read_token(args.token_file.as_deref())?;
    let mut stream = std::net::TcpStream::connect(server)
        .with_context(|| format!("nothing answers at {server}"))?;
    let authorization = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "POST /admin/import HTTP/1.0\r\nHost: {server}\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\n{authorization}\r\n",
        body.len()
    )?;
    stream.write_all(&body)?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    if head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200") {
        println!("{body}");
        Ok(())
    } else {
        bail!("the server refused the import: {}", body.trim())
    }
}

/// An empty store takes the file in two streaming passes (check, then write) with a progress
/// bar over the file's bytes for each, so memory stays flat whatever the file's size.
fn import_file(service: &Service, path: &Path) -> Result<()> {
    let name = path.display().to_string();
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot open {name}"))?
        .len();
    let style = |phase: &str| {
        ProgressStyle::with_template(&format!(
            "{phase} {{bar:40}} {{bytes}}/{{total_bytes}} {{bytes_per_sec}} eta {{eta}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
    };
    // The service reads the file once per pass: check, write, then index what it wrote
    // (definitions, then relations).
    let bars = [
        ProgressBar::new(size).with_style(style("checking")),
        ProgressBar::new(size).with_style(style("writing ")),
        ProgressBar::new(size).with_style(style("indexing")),
        ProgressBar::new(size).with_style(style("indexing")),
    ];
    let pass = std::cell::Cell::new(0usize);
    let open = || {
        let current = pass.get().min(bars.len() - 1);
        pass.set(current + 1);
        if current > 0 {
            bars[current - 1].finish();
        }
        let file = File::open(path).map_err(|e| tiegraph::service::ServiceError::BadRecord {
            file: Some(name.clone()),
            line: None,
            message: format!("cannot open it: {e}"),
        })?;
        let reader = BufReader::with_capacity(1 << 20, bars[current].wrap_read(file));
        Ok(jsonl::import_items(reader, name.clone()))
    };
    let summary = service
        .import_stream(open, &|_, _| {})
        .map_err(|e| e.in_file(&name));
    for bar in &bars {
        bar.finish_and_clear();
    }
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
    if summary.resolved > 0 {
        println!(
            "{} entity records were entities already held under other ids (the same identifier): their names and identifiers were added to those",
            summary.resolved
        );
    }
    if !summary.checked_in.is_zero() {
        println!(
            "checked in {:.2} s, written in {:.2} s",
            summary.checked_in.as_secs_f64(),
            (summary.elapsed - summary.checked_in).as_secs_f64()
        );
    }
    if seconds > 0.0 && relations > 0 {
        println!("rate: {:.0} relations/s", relations as f64 / seconds);
    }
}

fn export(args: ExportArgs) -> Result<()> {
    if let Some(server) = args.server {
        return export_through_server(server, &args);
    }
    if !args.data.data_dir.is_dir() {
        bail!("no store at {}", args.data.data_dir.display());
    }
    let service = open_service(&args.data, Limits::default())?;
    if args.format != "jsonl" {
        return export_as(&service, &args);
    }
    if args.scope != "all" {
        bail!(
            "--format jsonl exports the whole graph; pick another format for --scope {}",
            args.scope
        );
    }
    let out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    match jsonl::write_all(&service, BufWriter::new(out)) {
        // A closed pipe (`tiegraph export | head`) is the reader's choice, not a failure.
        Err(jsonl::WriteError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("export failed"),
    }
}

fn read_token(file: Option<&Path>) -> Result<Option<String>> {
    match (file, std::env::var("TIEGRAPH_TOKEN")) {
        (Some(path), _) => Ok(Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the token file {}", path.display()))?
                .trim()
                .to_owned(),
        )),
        (None, Ok(token)) => Ok(Some(token.trim().to_owned())),
        (None, Err(_)) => Ok(None),
    }
}

fn backup(args: BackupArgs) -> Result<()> {
    let partial = args.out.with_extension("partial");
    let mut file = BufWriter::new(
        File::create(&partial).with_context(|| format!("cannot create {}", partial.display()))?,
    );
    match (&args.server, &args.data_dir) {
        (Some(server), _) => {
            let token = read_token(args.token_file.as_deref())?;
            download_backup(*server, token.as_deref(), &mut file)?;
        }
        (None, Some(dir)) => {
            let service = Service::open(dir, Limits::default()).with_context(|| {
                format!(
                    "cannot open the store in {} (is the server still running? then use --server)",
                    dir.display()
                )
            })?;
            service.backup(&mut file).context("backup failed")?;
        }
        (None, None) => {
            bail!("say what to back up: --server ADDR (online) or --data-dir DIR (stopped)")
        }
    }
    file.flush()?;
    drop(file);
    let records = tiegraph::service::verify_backup(&partial).with_context(|| {
        format!(
            "the backup in {} is not whole or is damaged; it was kept for inspection",
            partial.display()
        )
    })?;
    std::fs::rename(&partial, &args.out)?;
    println!("backed up {records} records to {}", args.out.display());
    Ok(())
}

/// An HTTP/1.0 GET, so the server answers with a plain body ended by closing the connection,
/// and this command needs no HTTP client library.
fn download_backup(server: SocketAddr, token: Option<&str>, out: &mut impl Write) -> Result<()> {
    http_get(server, "/admin/backup", token, out).context("the backup failed")
}

/// A bare HTTP/1.0 GET whose body is copied to `out`; an answer other than 200 is an error
/// carrying the server's message.
fn http_get(
    server: SocketAddr,
    path: &str,
    token: Option<&str>,
    out: &mut impl Write,
) -> Result<()> {
    use std::io::{BufRead, Read};
    let mut stream = std::net::TcpStream::connect(server)
        .with_context(|| format!("nothing answers at {server}"))?;
    let authorization = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {server}\r\n{authorization}\r\n"
    )?;
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status)?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
    }
    if !status.contains(" 200 ") {
        let mut body = String::new();
        let _ = reader.take(64 * 1024).read_to_string(&mut body);
        bail!("the server answered {}: {}", status.trim(), body.trim());
    }
    let mut body = reader.take(u64::MAX);
    std::io::copy(&mut body, out).context("the download broke off")?;
    Ok(())
}

/// Percent-encodes a query-string value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `tiegraph export --server`: the same document, asked of the running server's `/export`.
fn export_through_server(server: SocketAddr, args: &ExportArgs) -> Result<()> {
    if args.format == "jsonl" || args.format == "csv" {
        bail!(
            "through a server, export writes one document: pick --format cytoscape, graphology, node-link, graphml, gexf, csv-nodes or csv-edges (jsonl and csv need the store: stop the server and drop --server)"
        );
    }
    let mut query = vec![
        format!("format={}", encode(&args.format)),
        format!("scope={}", encode(&args.scope)),
    ];
    let optional = [
        ("id", args.id.clone()),
        ("depth", args.depth.map(|d| d.to_string())),
        ("relationKinds", args.relation_kinds.clone()),
        ("from", args.from.clone()),
        ("pattern", args.pattern.clone()),
        ("to", args.to.clone()),
        (
            "includeDenied",
            args.include_denied.then(|| "true".to_owned()),
        ),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            query.push(format!("{name}={}", encode(&value)));
        }
    }
    let token = read_token(args.token_file.as_deref())?;
    let path = format!("/export?{}", query.join("&"));
    let mut out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    http_get(server, &path, token.as_deref(), &mut out).context("the export failed")
}

fn restore(args: RestoreArgs) -> Result<()> {
    let records =
        tiegraph::service::restore_backup(&args.data_dir, &args.file).with_context(|| {
            format!(
                "cannot restore {} into {}",
                args.file.display(),
                args.data_dir.display()
            )
        })?;
    // Opening the service rebuilds the index, which checks that no relation dangles.
    let service = open_service(
        &DataArgs {
            data_dir: args.data_dir.clone(),
        },
        Limits::default(),
    )?;
    println!(
        "restored {records} records into {}: {} entities, {} relations",
        args.data_dir.display(),
        service.entity_count(),
        service.relation_count()
    );
    Ok(())
}

/// The exchange formats: build the subgraph once, write it as one file (or two for csv).
fn export_as(service: &Service, args: &ExportArgs) -> Result<()> {
    let params = |name: &str| -> Option<String> {
        match name {
            "scope" => Some(args.scope.clone()),
            "id" => args.id.clone(),
            "depth" => args.depth.map(|d| d.to_string()),
            "relationKinds" => args.relation_kinds.clone(),
            "from" => args.from.clone(),
            "pattern" => args.pattern.clone(),
            "to" => args.to.clone(),
            "includeDenied" => Some(args.include_denied.to_string()),
            _ => None,
        }
    };
    let formats = if args.format == "csv" {
        vec![ExportFormat::CsvNodes, ExportFormat::CsvEdges]
    } else {
        vec![ExportFormat::parse(&args.format)?]
    };
    let scope = Scope::from_params(&params)?;
    let select = || -> Result<ExportPlan> {
        let plan = ExportPlan::select(service, &scope).context("export failed")?;
        if plan.partial() {
            eprintln!(
                "note: the search behind --scope {} stopped at a limit; the export is partial",
                args.scope
            );
        }
        Ok(plan)
    };
    if formats.len() > 1 {
        let Some(dir) = &args.out_dir else {
            bail!(
                "--format csv writes two files: give --out-dir DIR (or use csv-nodes / csv-edges)"
            )
        };
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for format in formats {
            let path = dir.join(format.file_name());
            let file =
                File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
            select()?
                .write(service, format, BufWriter::new(file))
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        return Ok(());
    }
    let format = formats[0];
    let out: Box<dyn Write> = match (&args.out, &args.out_dir) {
        (Some(path), _) => Box::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        ),
        (None, Some(dir)) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let path = dir.join(format.file_name());
            Box::new(
                File::create(&path).with_context(|| format!("cannot create {}", path.display()))?,
            )
        }
        (None, None) => Box::new(std::io::stdout().lock()),
    };
    match select()?.write(service, format, BufWriter::new(out)) {
        // A closed pipe (`tiegraph export … | head`) is the reader's choice, not a failure.
        Err(tiegraph::formats::export::ExportError::Io(e))
            if e.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            Ok(())
        }
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
