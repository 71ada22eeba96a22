//! Measures the 3-hop frontier search of issue 9 on a generated graph, reading the index's
//! petgraph adjacency and then its compact copy (CSR), on the same starts, and checks that the
//! answers are the same. The figures in ARCHITECTURE.md come from it:
//!
//!     cargo run --release --example frontier -- 1000000 5000000 200
//!
//! (entities, relations, starts). The starts are drawn uniformly from the entities with a
//! VENDOR_TO or OWNS tie, as bench/run.py draws them.

use std::io::BufRead;
use std::time::Instant;

use tiegraph::formats::generate::{generate, GenerateConfig};
use tiegraph::graph::{
    connected, Budget, BudgetLimits, EdgeFilter, EntityKindSet, GraphIndex, HopSpec, KindSet,
    PathQuery,
};
use tiegraph::model::{
    Claim, Direction, Entity, EntityKind, Period, Relation, RelationKind, Stance, Timestamp,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>());
    let entities = args.next().transpose()?.unwrap_or(100_000);
    let relations = args.next().transpose()?.unwrap_or(500_000);
    let samples = args.next().transpose()?.unwrap_or(200) as usize;

    let mut file = Vec::new();
    let config = GenerateConfig {
        entities,
        relations,
        seed: 1,
    };
    generate(&config, &mut file, &mut |_| {})?;
    let started = Instant::now();
    let (index, mut starts) = build(&file)?;
    eprintln!(
        "index of {} entities, {} relations built in {:.1} s",
        index.entity_count(),
        index.relation_count(),
        started.elapsed().as_secs_f64()
    );
    // A uniform sample without replacement (a seeded partial Fisher-Yates shuffle).
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for i in 0..samples.min(starts.len()) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = i + (state % (starts.len() - i) as u64) as usize;
        starts.swap(i, j);
    }
    starts.truncate(samples);

    let mut index = index;
    let (graph_times, graph_answers) = run(&index, &starts);
    let rebuilt = Instant::now();
    index.rebuild_adjacency();
    let build = rebuilt.elapsed();
    let (compact_times, compact_answers) = run(&index, &starts);
    assert_eq!(graph_answers, compact_answers, "the same answers both ways");
    let mean = compact_answers.iter().sum::<usize>() as f64 / compact_answers.len() as f64;
    println!(
        "{} starts, mean answer {mean:.0} entities, max {}",
        starts.len(),
        compact_answers.iter().max().unwrap_or(&0)
    );
    println!(
        "compact adjacency built in {:.0} ms",
        build.as_secs_f64() * 1e3
    );
    for (label, times) in [
        ("petgraph adjacency", graph_times),
        ("compact adjacency", compact_times),
    ] {
        println!(
            "{label}: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms, total {:.0} ms",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            percentile(&times, 1.0),
            times.iter().sum::<f64>()
        );
    }
    Ok(())
}

/// The 3-hop of bench/run.py from each start: its time in ms and its answer's size.
fn run(index: &GraphIndex, starts: &[String]) -> (Vec<f64>, Vec<usize>) {
    let hop = |kinds: &[RelationKind], entity_kinds: &[EntityKind]| HopSpec {
        kinds: KindSet::of(kinds),
        direction: Direction::Any,
        entity_kinds: EntityKindSet::of(entity_kinds),
        min_repeat: 1,
        max_repeat: 1,
    };
    let hops = vec![
        hop(&[RelationKind::VendorTo, RelationKind::Owns], &[]),
        hop(
            &[
                RelationKind::OfficerOf,
                RelationKind::EmployeeOf,
                RelationKind::MemberOf,
            ],
            &[],
        ),
        hop(&[], &[EntityKind::Nonprofit]),
    ];
    let mut times = Vec::new();
    let mut sizes = Vec::new();
    for start in starts {
        let Some(node) = index.node(start) else {
            continue;
        };
        let query = PathQuery {
            start: node,
            hops: hops.clone(),
            target: None,
            filter: EdgeFilter::default(),
        };
        let mut budget = Budget::new(BudgetLimits::default());
        let began = Instant::now();
        let reached = connected(index, &query, &mut budget);
        times.push(began.elapsed().as_secs_f64() * 1e3);
        assert!(
            !budget.exhausted(),
            "{start}: the default budget answers it"
        );
        sizes.push(reached.ends.len());
    }
    (times, sizes)
}

fn percentile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(rank).copied().unwrap_or(0.0)
}

/// The index of a generated file, built record by record as live writes build it (so with no
/// compact adjacency yet), and the entities with a VENDOR_TO or OWNS tie.
fn build(file: &[u8]) -> Result<(GraphIndex, Vec<String>), Box<dyn std::error::Error>> {
    let mut index = GraphIndex::new();
    let mut starts = std::collections::BTreeSet::new();
    for line in file.lines() {
        let record: serde_json::Value = serde_json::from_str(&line?)?;
        let text = |field: &str| record[field].as_str().unwrap_or_default().to_owned();
        match record["type"].as_str() {
            Some("source") => index.upsert_source(&text("id")),
            Some("entity") => index.upsert_entity(&Entity {
                id: text("id"),
                kind: EntityKind::parse(&text("kind")).ok_or("entity kind")?,
                name: text("name"),
                aliases: vec![],
                description: None,
                country: None,
                category: None,
                identifiers: vec![],
                created_at: Timestamp(0),
                updated_at: Timestamp(0),
            }),
            Some("relation") => {
                let kind = RelationKind::parse(&text("kind")).ok_or("relation kind")?;
                let relation = Relation {
                    id: text("id"),
                    kind,
                    from: text("from"),
                    to: text("to"),
                    status: None,
                    role: None,
                    description: None,
                    amount: None,
                    period: Period::default(),
                    created_at: Timestamp(0),
                    updated_at: Timestamp(0),
                };
                let claims: Vec<Claim> = record["claims"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .enumerate()
                    .map(|(i, c)| Claim {
                        id: format!("{}-c{i}", relation.id),
                        relation: relation.id.clone(),
                        source: c["source"].as_str().unwrap_or_default().to_owned(),
                        stance: if c["stance"] == "DENIES" {
                            Stance::Denies
                        } else {
                            Stance::Asserts
                        },
                        claimant: c["claimant"].as_str().map(str::to_owned),
                        quote: String::new(),
                        recorded_at: Timestamp(0),
                    })
                    .collect();
                let denied =
                    !claims.is_empty() && claims.iter().all(|c| c.stance == Stance::Denies);
                if !denied && matches!(kind, RelationKind::VendorTo | RelationKind::Owns) {
                    starts.insert(relation.from.clone());
                    starts.insert(relation.to.clone());
                }
                if !index.upsert_relation(&relation, &claims) {
                    return Err(format!("relation {} does not fit the index", relation.id).into());
                }
            }
            _ => return Err("a record of no known type".into()),
        }
    }
    Ok((index, starts.into_iter().collect()))
}
