//! A small HTTP load generator for the benchmark (`bench/run.py`): GraphQL POSTs over
//! keep-alive connections, counting only answers whose body holds what was asked for.
//!
//! It speaks HTTP/1.1 by hand over tokio's TcpStream rather than through an HTTP client: on a
//! 2-core machine the client shares the cores with the server it measures, and a client that
//! costs less leaves more to the server. Python clients top out far below 30,000 requests/s.
//!
//! ```text
//! cargo run --release --example loadgen -- lookup --url http://127.0.0.1:8080/graphql --ids ids.txt --connections 64 --seconds 10
//! cargo run --release --example loadgen -- write  --url http://127.0.0.1:8080/graphql --connections 4 --seconds 5 --prefix w1
//! cargo run --release --example loadgen -- replay --url http://127.0.0.1:8080/graphql --requests bodies.jsonl --out answers.tsv
//! ```
//! Each mode prints one JSON line of figures on standard output.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand};
use tokio::net::TcpStream;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(clap::Args, Clone)]
struct Target {
    /// The GraphQL endpoint, `http://host:port/path`.
    #[arg(long)]
    url: String,
    /// A bearer token to send, for servers that require one for writes.
    #[arg(long, env = "TIEGRAPH_TOKEN")]
    token: Option<String>,
    /// Worker threads of the client's runtime; one leaves the other core to the server.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

#[derive(Subcommand)]
enum Mode {
    /// Entity lookups by id, as fast as the connections allow, for a fixed time.
    Lookup {
        #[command(flatten)]
        target: Target,
        /// A file of entity ids, one a line, looked up in turn.
        #[arg(long)]
        ids: PathBuf,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
    },
    /// createEntity mutations with fresh ids, each acknowledged before the next on its connection.
    Write {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 1)]
        connections: usize,
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Prefix of the ids written, so runs do not collide.
        #[arg(long)]
        prefix: String,
    },
    /// Sends each request body of a file (JSON, one a line) in turn on one connection and writes
    /// `microseconds<TAB>response body` per request.
    Replay {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        requests: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let threads = match &cli.mode {
        Mode::Lookup { target, .. } | Mode::Write { target, .. } | Mode::Replay { target, .. } => {
            target.threads
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(async move {
        match cli.mode {
            Mode::Lookup { target, ids, connections, seconds } => {
                let text = std::fs::read_to_string(&ids).with_context(|| format!("cannot read {}", ids.display()))?;
                let ids: Vec<String> = text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
                if ids.is_empty() {
                    bail!("the ids file holds no ids");
                }
                let ids = Arc::new(ids);
                let make = move |worker: usize, i: u64| {
                    let id = &ids[(worker as u64 * 7919 + i) as usize % ids.len()];
                    let body = format!(
                        r#"{{"query":"query($id:ID!){{entity(id:$id){{id name kind}}}}","variables":{{"id":"{id}"}}}}"#
                    );
                    (body, format!(r#""id":"{id}""#))
                };
                drive("lookup", &target, connections, seconds, make).await
            }
            Mode::Write { target, connections, seconds, prefix } => {
                let make = move |worker: usize, i: u64| {
                    let id = format!("{prefix}-{worker}-{i}");
                    let body = format!(
                        r#"{{"query":"mutation($input:CreateEntityInput!){{createEntity(input:$input){{id}}}}","variables":{{"input":{{"id":"{id}","kind":"COMPANY","name":"Benchmark write {id}"}}}}}}"#
                    );
                    (body, format!(r#""id":"{id}""#))
                };
                drive("write", &target, connections, seconds, make).await
            }
            Mode::Replay { target, requests, out } => replay(&target, &requests, &out).await,
        }
    })
}

/// Runs `connections` workers for `seconds`, each sending the bodies `make(worker, i)` gives
/// and counting an answer as good when it is a 200 whose body holds the expected text and no
/// `"errors"`.
async fn drive<F>(
    mode: &str,
    target: &Target,
    connections: usize,
    seconds: f64,
    make: F,
) -> Result<()>
where
    F: Fn(usize, u64) -> (String, String) + Send + Sync + 'static,
{
    let endpoint = Endpoint::parse(&target.url)?;
    let make = Arc::new(make);
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..connections.max(1) {
        let endpoint = endpoint.clone();
        let token = target.token.clone();
        let make = Arc::clone(&make);
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut connection = match Connection::open(&endpoint).await {
                Ok(c) => c,
                Err(_) => {
                    tally.errors += 1;
                    return tally;
                }
            };
            let mut i = 0u64;
            while Instant::now() < deadline {
                let (body, expect) = make(worker, i);
                i += 1;
                let sent = Instant::now();
                match connection.post(&endpoint, token.as_deref(), &body).await {
                    Ok((200, answer))
                        if contains(&answer, expect.as_bytes())
                            && !contains(&answer, b"\"errors\"") =>
                    {
                        tally.ok += 1;
                        tally.latencies.push(sent.elapsed().as_micros() as u32);
                    }
                    Ok(_) => tally.bad += 1,
                    Err(_) => {
                        tally.errors += 1;
                        match Connection::open(&endpoint).await {
                            Ok(c) => connection = c,
                            Err(_) => return tally,
                        }
                    }
                }
            }
            tally
        }));
    }
    let mut total = Tally::default();
    for worker in workers {
        let tally = worker.await.map_err(|e| anyhow!("a worker failed: {e}"))?;
        total.ok += tally.ok;
        total.bad += tally.bad;
        total.errors += tally.errors;
        total.latencies.extend(tally.latencies);
    }
    let elapsed = started.elapsed().as_secs_f64();
    total.latencies.sort_unstable();
    println!(
        r#"{{"mode":"{mode}","connections":{connections},"seconds":{elapsed:.3},"ok":{},"bad":{},"errors":{},"rate":{:.1},"p50_us":{},"p99_us":{}}}"#,
        total.ok,
        total.bad,
        total.errors,
        total.ok as f64 / elapsed,
        percentile(&total.latencies, 0.50),
        percentile(&total.latencies, 0.99),
    );
    Ok(())
}

async fn replay(target: &Target, requests: &PathBuf, out: &PathBuf) -> Result<()> {
    let endpoint = Endpoint::parse(&target.url)?;
    let text = std::fs::read_to_string(requests)
        .with_context(|| format!("cannot read {}", requests.display()))?;
    let mut connection = Connection::open(&endpoint).await?;
    let mut lines = String::new();
    let mut count = 0;
    for body in text.lines().filter(|l| !l.trim().is_empty()) {
        let sent = Instant::now();
        let (status, answer) = connection
            .post(&endpoint, target.token.as_deref(), body)
            .await?;
        let micros = sent.elapsed().as_micros();
        let answer = String::from_utf8_lossy(&answer).replace(['\n', '\r'], " ");
        lines.push_str(&format!("{micros}\t{status}\t{answer}\n"));
        count += 1;
    }
    std::fs::write(out, lines).with_context(|| format!("cannot write {}", out.display()))?;
    println!(r#"{{"mode":"replay","requests":{count}}}"#);
    Ok(())
}

#[derive(Default)]
struct Tally {
    ok: u64,
    bad: u64,
    errors: u64,
    latencies: Vec<u32>,
}

fn percentile(sorted: &[u32], q: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[derive(Clone)]
struct Endpoint {
    addr: SocketAddr,
    host: String,
    path: String,
}

impl Endpoint {
    fn parse(url: &str) -> Result<Self> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| anyhow!("only http:// URLs: {url}"))?;
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let addr = host
            .parse()
            .with_context(|| format!("`{host}` is not an ip:port"))?;
        Ok(Endpoint {
            addr,
            host: host.to_owned(),
            path: path.to_owned(),
        })
    }
}

/// One keep-alive HTTP/1.1 connection. tokio's io-util is not among the crate's features, so
/// reads and writes go through `try_read`/`try_write` after readiness.
struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Connection {
    async fn open(endpoint: &Endpoint) -> Result<Self> {
        let stream = TcpStream::connect(endpoint.addr).await?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            buffer: Vec::with_capacity(16 * 1024),
        })
    }

    async fn post(
        &mut self,
        endpoint: &Endpoint,
        token: Option<&str>,
        body: &str,
    ) -> Result<(u16, Vec<u8>)> {
        let auth = token
            .map(|t| format!("authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "POST {} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\naccept: application/json\r\n{auth}content-length: {}\r\n\r\n{body}",
            endpoint.path,
            endpoint.host,
            body.len()
        );
        self.write_all(request.as_bytes()).await?;
        self.read_response().await
    }

    async fn write_all(&mut self, mut bytes: &[u8]) -> Result<()> {
        while !bytes.is_empty() {
            self.stream.writable().await?;
            match self.stream.try_write(bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Reads more bytes into the buffer; an error at end of stream.
    async fn fill(&mut self) -> Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            self.stream.readable().await?;
            match self.stream.try_read(&mut chunk) {
                Ok(0) => bail!("the server closed the connection"),
                Ok(n) => {
                    self.buffer.extend_from_slice(&chunk[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn read_response(&mut self) -> Result<(u16, Vec<u8>)> {
        let head_end = loop {
            if let Some(i) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            self.fill().await?;
        };
        let head = String::from_utf8_lossy(&self.buffer[..head_end]).to_ascii_lowercase();
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow!("no status line"))?;
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok());
        let chunked = head
            .lines()
            .any(|l| l.starts_with("transfer-encoding:") && l.contains("chunked"));
        self.buffer.drain(..head_end);
        if let Some(length) = length {
            while self.buffer.len() < length {
                self.fill().await?;
            }
            let body = self.buffer.drain(..length).collect();
            return Ok((status, body));
        }
        if !chunked {
            bail!("a response with neither content-length nor chunked encoding");
        }
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = self.buffer.windows(2).position(|w| w == b"\r\n") {
                    break i;
                }
                self.fill().await?;
            };
            let size_text = String::from_utf8_lossy(&self.buffer[..line_end]).to_string();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .with_context(|| format!("bad chunk size `{size_text}`"))?;
            self.buffer.drain(..line_end + 2);
            while self.buffer.len() < size + 2 {
                self.fill().await?;
            }
            body.extend(self.buffer.drain(..size));
            self.buffer.drain(..2);
            if size == 0 {
                return Ok((status, body));
            }
        }
    }
}
