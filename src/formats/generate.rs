//! The synthetic graph generator: writes a realistic, seeded graph in tiegraph's JSON lines
//! (the format [`super::jsonl`] reads), for benchmarks and load tests.
//!
//! What "realistic" means here: every entity kind and relation kind, with ends of the kinds
//! the model accepts; power-law degrees, so a few hubs hold tens of thousands of ties while
//! most entities hold one or two; sources and claims on every relation, some relations
//! denied (only denying claims) and some disputed (asserted and denied). The same
//! configuration always gives the same bytes: the only randomness is a seeded splitmix64,
//! written here so the output cannot change under a dependency upgrade.
//!
//! Records stream out as they are made (sources, then entities, then relations), so memory
//! stays at a few bytes per entity whatever the number of relations.

use std::io::{self, Write};

use crate::model::{EntityKind, RelationKind, Status};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateConfig {
    /// Entities to write; at least [`MIN_ENTITIES`], so every kind can appear.
    pub entities: u64,
    /// Relations to write.
    pub relations: u64,
    /// Seed of the generator: the same seed gives the same file.
    pub seed: u64,
}

/// The fewest entities that still leave room for every kind and for ties without self loops.
pub const MIN_ENTITIES: u64 = 10;

/// What a run wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenerateSummary {
    pub sources: u64,
    pub entities: u64,
    pub relations: u64,
    pub claims: u64,
    /// Relations whose every claim denies them.
    pub denied: u64,
    /// Relations both asserted and denied.
    pub disputed: u64,
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("at least {MIN_ENTITIES} entities are needed so that every kind appears, not {0}")]
    TooFewEntities(u64),
    #[error("at most {max} entities, not {0}", max = u32::MAX)]
    TooManyEntities(u64),
    #[error("cannot write the output: {0}")]
    Io(#[from] io::Error),
}

/// Records between two calls of the progress callback: often enough for a smooth bar, rarely
/// enough to cost nothing.
const PROGRESS_EVERY: u64 = 1 << 14;

/// One source per this many relations: a document reports several ties.
const RELATIONS_PER_SOURCE: u64 = 40;

/// Writes the graph `config` describes to `out`. `progress` is told how many records (sources,
/// entities and relations together) have been written; the total is [`record_count`].
pub fn generate(
    config: &GenerateConfig,
    out: impl Write,
    progress: &mut dyn FnMut(u64),
) -> Result<GenerateSummary, GenerateError> {
    if config.entities < MIN_ENTITIES {
        return Err(GenerateError::TooFewEntities(config.entities));
    }
    if config.entities > u64::from(u32::MAX) {
        return Err(GenerateError::TooManyEntities(config.entities));
    }
    let mut writer = Writer {
        out,
        rng: SplitMix64::new(config.seed),
        summary: GenerateSummary::default(),
        written: 0,
    };
    let sources = source_count(config);
    for s in 0..sources {
        writer.source(s)?;
        writer.tick(progress);
    }
    let entities = Entities::draw(config.entities, &mut writer.rng);
    for (e, kind) in entities.kinds.iter().enumerate() {
        writer.entity(e as u64, EntityKind::ALL[usize::from(*kind)])?;
        writer.tick(progress);
    }
    let roles = Roles::new(&entities, config.seed);
    for r in 0..config.relations {
        writer.relation(r, &entities, &roles, sources)?;
        writer.tick(progress);
    }
    writer.out.flush()?;
    progress(writer.written);
    Ok(writer.summary)
}

/// How many records [`generate`] writes for `config`: the length of its progress bar.
pub fn record_count(config: &GenerateConfig) -> u64 {
    source_count(config) + config.entities + config.relations
}

fn source_count(config: &GenerateConfig) -> u64 {
    config.relations.div_ceil(RELATIONS_PER_SOURCE).max(1)
}

/// splitmix64 (Steele, Lea and Flood): tiny, fast, and good enough for synthetic data.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [0, n); n > 0.
    fn below(&mut self, n: u64) -> u64 {
        // Multiply-shift (Lemire) without the rejection step: the bias is below 2^-32 for the
        // sizes used here, invisible in synthetic data.
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// An index into `weights`, drawn in proportion to them.
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut pick = self.below(u64::from(total)) as u32;
        for (i, w) in weights.iter().enumerate() {
            if pick < *w {
                return i;
            }
            pick -= w;
        }
        weights.len() - 1
    }

    /// A kind from `(kind, weight)` pairs, drawn in proportion to the weights.
    fn weighted_kind(&mut self, kinds: &[(u8, u32)]) -> u8 {
        let total: u32 = kinds.iter().map(|(_, w)| w).sum();
        let mut pick = self.below(u64::from(total)) as u32;
        for (kind, w) in kinds {
            if pick < *w {
                return *kind;
            }
            pick -= w;
        }
        kinds[kinds.len() - 1].0
    }

    /// A rank in [0, n) with a power-law density: rank `n * u^skew`. A skew of 1 is uniform;
    /// larger skews pile the draws onto the first ranks, the hubs. The share of the top rank
    /// is about `n^(-1/skew)`: with skew 4 and 50,000 agencies, one agency in fifteen draws.
    fn skewed(&mut self, n: u64, skew: f64) -> u64 {
        let rank = (n as f64 * self.unit().powf(skew)) as u64;
        rank.min(n - 1)
    }
}

// Indices into EntityKind::ALL.
const COMPANY: u8 = 0;
const AGENCY: u8 = 1;
const NONPROFIT: u8 = 2;
const PERSON: u8 = 3;
const GROUP: u8 = 4;

/// Every entity's kind, and the entities of each kind in id order.
struct Entities {
    kinds: Vec<u8>,
    by_kind: [Vec<u32>; 5],
}

impl Entities {
    /// Kinds in the proportions of a register like LittleSis: mostly people and companies.
    fn draw(n: u64, rng: &mut SplitMix64) -> Self {
        const WEIGHTS: [u32; 5] = [30, 5, 12, 45, 8];
        let mut kinds = Vec::with_capacity(n as usize);
        let mut by_kind: [Vec<u32>; 5] = Default::default();
        for e in 0..n {
            // The first five entities take one kind each, so every kind appears in any graph.
            let kind = if e < 5 {
                e as u8
            } else {
                rng.weighted(&WEIGHTS) as u8
            };
            kinds.push(kind);
            by_kind[usize::from(kind)].push(e as u32);
        }
        Entities { kinds, by_kind }
    }
}

/// One end of a kind of relation: which entity kinds it may be, in what proportions, and how
/// strongly it concentrates on hubs.
struct End {
    kinds: &'static [(u8, u32)],
    skew: f64,
}

/// A kind of relation as the generator makes it.
struct Spec {
    kind: RelationKind,
    weight: u32,
    from: End,
    to: End,
}

const ORGS: &[(u8, u32)] = &[(COMPANY, 60), (AGENCY, 15), (NONPROFIT, 25)];
const ANYONE: &[(u8, u32)] = &[
    (COMPANY, 30),
    (AGENCY, 5),
    (NONPROFIT, 15),
    (PERSON, 40),
    (GROUP, 10),
];

/// The mix of relation kinds. Receiving ends are skewed harder than giving ends: an agency
/// buys from thousands of vendors, a vendor sells to a few agencies.
const SPECS: [Spec; 10] = [
    Spec {
        kind: RelationKind::VendorTo,
        weight: 25,
        from: End {
            kinds: &[(COMPANY, 90), (NONPROFIT, 10)],
            skew: 2.0,
        },
        to: End {
            kinds: &[(AGENCY, 50), (COMPANY, 40), (NONPROFIT, 10)],
            skew: 4.0,
        },
    },
    Spec {
        kind: RelationKind::PartOf,
        weight: 3,
        from: End {
            kinds: &[(COMPANY, 50), (AGENCY, 35), (NONPROFIT, 15)],
            skew: 1.0,
        },
        to: End {
            kinds: &[(COMPANY, 50), (AGENCY, 35), (NONPROFIT, 15)],
            skew: 4.0,
        },
    },
    Spec {
        kind: RelationKind::OfficerOf,
        weight: 12,
        from: End {
            kinds: &[(PERSON, 1)],
            skew: 2.0,
        },
        to: End {
            kinds: ORGS,
            skew: 2.0,
        },
    },
    Spec {
        kind: RelationKind::EmployeeOf,
        weight: 14,
        from: End {
            kinds: &[(PERSON, 90), (GROUP, 10)],
            skew: 1.0,
        },
        to: End {
            kinds: ORGS,
            skew: 4.0,
        },
    },
    Spec {
        kind: RelationKind::MemberOf,
        weight: 8,
        from: End {
            kinds: &[(PERSON, 50), (COMPANY, 25), (NONPROFIT, 15), (GROUP, 10)],
            skew: 1.5,
        },
        to: End {
            kinds: &[(NONPROFIT, 80), (COMPANY, 20)],
            skew: 4.0,
        },
    },
    Spec {
        kind: RelationKind::Owns,
        weight: 8,
        from: End {
            kinds: &[(COMPANY, 60), (PERSON, 35), (NONPROFIT, 5)],
            skew: 3.0,
        },
        to: End {
            kinds: &[(COMPANY, 1)],
            skew: 1.5,
        },
    },
    Spec {
        kind: RelationKind::Donation,
        weight: 10,
        from: End {
            kinds: &[(COMPANY, 40), (PERSON, 50), (NONPROFIT, 10)],
            skew: 2.5,
        },
        to: End {
            kinds: &[(NONPROFIT, 80), (PERSON, 10), (GROUP, 10)],
            skew: 4.0,
        },
    },
    Spec {
        kind: RelationKind::Lobbied,
        weight: 4,
        from: End {
            kinds: &[(COMPANY, 60), (NONPROFIT, 40)],
            skew: 2.5,
        },
        to: End {
            kinds: &[(AGENCY, 1)],
            skew: 4.0,
        },
    },
    Spec {
        kind: RelationKind::Pressured,
        weight: 3,
        from: End {
            kinds: &[(NONPROFIT, 50), (GROUP, 30), (PERSON, 20)],
            skew: 2.5,
        },
        to: End {
            kinds: &[(COMPANY, 60), (AGENCY, 40)],
            skew: 4.0,
        },
    },
    Spec {
        kind: RelationKind::AssociatedWith,
        weight: 13,
        from: End {
            kinds: ANYONE,
            skew: 2.0,
        },
        to: End {
            kinds: ANYONE,
            skew: 2.0,
        },
    },
];

/// Which ranks are the hubs of each role. Without this the entity that is the busiest vendor
/// would also be the most owned, the most donated to and so on, and every hub would sit
/// next to every other: a per-role permutation gives each role its own hubs.
struct Roles {
    /// `[spec][side][kind]` → (multiplier, offset) of `rank ↦ (rank * m + o) mod n`.
    perms: Vec<[[(u64, u64); 5]; 2]>,
}

impl Roles {
    fn new(entities: &Entities, seed: u64) -> Self {
        let mut rng = SplitMix64::new(seed ^ 0x05EE_D0FA_01E5);
        let perms = SPECS
            .iter()
            .map(|_| {
                let mut sides = [[(1, 0); 5]; 2];
                for side in &mut sides {
                    for (kind, slot) in side.iter_mut().enumerate() {
                        let n = entities.by_kind[kind].len() as u64;
                        if n == 0 {
                            continue;
                        }
                        let mut m = rng.below(n).max(1);
                        while gcd(m, n) != 1 {
                            m += 1;
                        }
                        *slot = (m, rng.below(n));
                    }
                }
                sides
            })
            .collect();
        Roles { perms }
    }

    /// An entity of `end`, drawn with the end's skew through the role's permutation.
    fn pick(
        &self,
        rng: &mut SplitMix64,
        entities: &Entities,
        spec: usize,
        side: usize,
        end: &End,
    ) -> u32 {
        let kind = rng.weighted_kind(end.kinds);
        let list = &entities.by_kind[usize::from(kind)];
        let n = list.len() as u64;
        let rank = rng.skewed(n, end.skew);
        let (m, o) = self.perms[spec][side][usize::from(kind)];
        list[((u128::from(rank) * u128::from(m) + u128::from(o)) % u128::from(n)) as usize]
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

const PUBLISHERS: [&str; 8] = [
    "The Daily Ledger",
    "Federal Register",
    "Open Contracts Watch",
    "The Civic Times",
    "Nonprofit Quarterly Review",
    "State Procurement Portal",
    "Investigative Desk",
    "Press Release Wire",
];
const DOCUMENTS: [&str; 6] = [
    "Report",
    "Contract award notice",
    "Annual filing",
    "Press statement",
    "Letter",
    "Interview",
];
const COMPANY_WORDS: [&str; 12] = [
    "Acme",
    "Northwind",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Hooli",
    "Vandelay",
    "Soylent",
];
const COMPANY_SUFFIXES: [&str; 6] = ["Inc", "LLC", "Systems", "Holdings", "Technologies", "Group"];
const AGENCY_WORDS: [&str; 8] = [
    "Customs",
    "Border",
    "Health",
    "Energy",
    "Transport",
    "Housing",
    "Defense",
    "Education",
];
const AGENCY_FORMS: [&str; 4] = ["Agency", "Department", "Administration", "Office"];
const CAUSES: [&str; 8] = [
    "Immigrant",
    "Privacy",
    "Climate",
    "Housing",
    "Labor",
    "Health",
    "Digital",
    "Civil",
];
const NONPROFIT_FORMS: [&str; 5] = ["Alliance", "Foundation", "Coalition", "Project", "Union"];
const GIVEN: [&str; 12] = [
    "Ana", "Ben", "Carla", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jamal", "Kim", "Lena",
];
const FAMILY: [&str; 12] = [
    "Alvarez", "Brown", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Haddad", "Ito", "Jones",
    "Khan", "Lopez",
];
const COUNTRIES: [&str; 5] = ["US", "US", "US", "CA", "MX"];
const ROLES: [&str; 5] = [
    "chief executive",
    "director",
    "treasurer",
    "general counsel",
    "board member",
];
const ACTIONS: [&str; 4] = ["letter", "complaint", "demand", "boycott threat"];

/// Writes records, drawing every random choice from one stream so the output is a function of
/// the seed alone.
struct Writer<W: Write> {
    out: W,
    rng: SplitMix64,
    summary: GenerateSummary,
    written: u64,
}

impl<W: Write> Writer<W> {
    fn tick(&mut self, progress: &mut dyn FnMut(u64)) {
        self.written += 1;
        if self.written.is_multiple_of(PROGRESS_EVERY) {
            progress(self.written);
        }
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[self.rng.below(words.len() as u64) as usize]
    }

    fn year(&mut self) -> u64 {
        2000 + self.rng.below(25)
    }

    fn source(&mut self, s: u64) -> io::Result<()> {
        let document = self.pick(&DOCUMENTS);
        let publisher = self.pick(&PUBLISHERS);
        let year = self.year();
        let month = 1 + self.rng.below(12);
        writeln!(
            self.out,
            r#"{{"type":"source","id":"s{s}","title":"{document} no. {s}","publisher":"{publisher}","url":"https://example.org/documents/s{s}","published":"{year}-{month:02}"}}"#
        )?;
        self.summary.sources += 1;
        Ok(())
    }

    fn entity(&mut self, e: u64, kind: EntityKind) -> io::Result<()> {
        let name = match kind {
            EntityKind::Company => format!(
                "{} {} {e}",
                self.pick(&COMPANY_WORDS),
                self.pick(&COMPANY_SUFFIXES)
            ),
            EntityKind::Agency => format!(
                "{} {} {e}",
                self.pick(&AGENCY_WORDS),
                self.pick(&AGENCY_FORMS)
            ),
            EntityKind::Nonprofit => {
                format!("{} {} {e}", self.pick(&CAUSES), self.pick(&NONPROFIT_FORMS))
            }
            EntityKind::Person => format!("{} {} {e}", self.pick(&GIVEN), self.pick(&FAMILY)),
            EntityKind::Group => format!("{} workers group {e}", self.pick(&COMPANY_WORDS)),
        };
        let country = self.pick(&COUNTRIES);
        write!(
            self.out,
            r#"{{"type":"entity","id":"e{e}","kind":"{}","name":"{name}","country":"{country}""#,
            kind.as_str()
        )?;
        match kind {
            EntityKind::Agency => write!(self.out, r#","category":"federal agency""#)?,
            EntityKind::Company if self.rng.below(4) == 0 => write!(
                self.out,
                r#","identifiers":[{{"scheme":"uei","value":"U{e:011}"}}]"#
            )?,
            EntityKind::Nonprofit if self.rng.below(2) == 0 => write!(
                self.out,
                r#","identifiers":[{{"scheme":"ein","value":"{:02}-{:07}"}}]"#,
                e % 100,
                e % 10_000_000
            )?,
            _ => {}
        }
        self.out.write_all(b"}\n")?;
        self.summary.entities += 1;
        Ok(())
    }

    fn relation(
        &mut self,
        r: u64,
        entities: &Entities,
        roles: &Roles,
        sources: u64,
    ) -> io::Result<()> {
        const SPEC_WEIGHTS: [u32; 10] = {
            let mut weights = [0; 10];
            let mut i = 0;
            while i < 10 {
                weights[i] = SPECS[i].weight;
                i += 1;
            }
            weights
        };
        let s = self.rng.weighted(&SPEC_WEIGHTS);
        let spec = &SPECS[s];
        let from = roles.pick(&mut self.rng, entities, s, 0, &spec.from);
        let mut to = roles.pick(&mut self.rng, entities, s, 1, &spec.to);
        for _ in 0..8 {
            if to != from {
                break;
            }
            to = roles.pick(&mut self.rng, entities, s, 1, &spec.to);
        }
        if to == from {
            // A kind may hold a single entity in a tiny graph: take another of the allowed kinds.
            to = other_than(entities, spec, from);
        }
        let kind = spec.kind;
        write!(
            self.out,
            r#"{{"type":"relation","id":"r{r}","kind":"{}","from":"e{from}","to":"e{to}""#,
            kind.as_str()
        )?;
        if kind != RelationKind::AssociatedWith {
            let status = self.status(kind);
            write!(self.out, r#","status":"{}""#, status.as_str())?;
        }
        let role = match kind {
            RelationKind::OfficerOf => Some(self.pick(&ROLES).to_owned()),
            RelationKind::Pressured => Some(self.pick(&ACTIONS).to_owned()),
            RelationKind::Owns => Some(format!("{} percent share", 1 + self.rng.below(100))),
            _ => None,
        };
        if let Some(role) = role {
            write!(self.out, r#","role":"{role}""#)?;
        }
        if matches!(kind, RelationKind::Donation | RelationKind::VendorTo) {
            let value = 1_000 * (1 + self.rng.below(1_000));
            write!(
                self.out,
                r#","amount":{{"value":{value},"currency":"USD"}}"#
            )?;
        }
        if self.rng.below(2) == 0 {
            let start = self.year();
            write!(self.out, r#","start":"{start}""#)?;
            if self.rng.below(3) == 0 {
                let end = start + self.rng.below(6);
                write!(self.out, r#","end":"{end}""#)?;
            }
        }
        self.claims(r, from, to, kind, sources)?;
        self.out.write_all(b"}\n")?;
        self.summary.relations += 1;
        Ok(())
    }

    fn status(&mut self, kind: RelationKind) -> Status {
        let allowed = kind.allowed_statuses();
        // Most ties are current: the first allowed status (ACTIVE, OFFERED) half the time.
        if self.rng.below(2) == 0 {
            allowed[0]
        } else {
            allowed[self.rng.below(allowed.len() as u64) as usize]
        }
    }

    /// One to three claims: 3% of relations only denied, 5% disputed, the rest asserted, by
    /// the source itself or by one of the ends (which makes them confirmed).
    fn claims(
        &mut self,
        r: u64,
        from: u32,
        to: u32,
        kind: RelationKind,
        sources: u64,
    ) -> io::Result<()> {
        let roll = self.rng.below(100);
        let stances: &[bool] = match roll {
            0..=2 => {
                self.summary.denied += 1;
                &[false]
            }
            3..=7 => {
                self.summary.disputed += 1;
                &[true, false]
            }
            8..=27 => &[true, true],
            _ => &[true],
        };
        let verb = kind.as_str().to_lowercase().replace('_', " ");
        self.out.write_all(br#","claims":["#)?;
        for (i, asserts) in stances.iter().enumerate() {
            let source = self.rng.below(sources);
            if i > 0 {
                self.out.write_all(b",")?;
            }
            let speaker = match self.rng.below(4) {
                0 => Some(from),
                1 => Some(to),
                _ => None,
            };
            let (stance, quote) = if *asserts {
                ("ASSERTS", format!("e{from} {verb} e{to}, per record r{r}."))
            } else {
                (
                    "DENIES",
                    format!("It is not true that e{from} {verb} e{to}."),
                )
            };
            write!(self.out, r#"{{"source":"s{source}","stance":"{stance}""#)?;
            if let Some(speaker) = speaker {
                write!(self.out, r#","claimant":"e{speaker}""#)?;
            }
            write!(self.out, r#","quote":"{quote}"}}"#)?;
            self.summary.claims += 1;
        }
        self.out.write_all(b"]")
    }
}

/// The first entity of the `to` end's kinds that is not `from`. There is always one: a graph
/// of [`MIN_ENTITIES`] has an entity of every kind, and every end allows two kinds or more, or
/// a kind (COMPANY, AGENCY, PERSON) that `from` cannot also be.
fn other_than(entities: &Entities, spec: &Spec, from: u32) -> u32 {
    spec.to
        .kinds
        .iter()
        .flat_map(|(kind, _)| entities.by_kind[usize::from(*kind)].iter().copied())
        .find(|e| *e != from)
        .unwrap_or(from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(config: &GenerateConfig) -> (Vec<u8>, GenerateSummary) {
        let mut out = Vec::new();
        let summary = generate(config, &mut out, &mut |_| {}).unwrap();
        (out, summary)
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let config = GenerateConfig {
            entities: 200,
            relations: 1_000,
            seed: 7,
        };
        let (a, _) = run(&config);
        let (b, _) = run(&config);
        assert_eq!(a, b);
        let (c, _) = run(&GenerateConfig { seed: 8, ..config });
        assert_ne!(a, c);
    }

    #[test]
    fn counts_add_up_and_every_line_parses() {
        let config = GenerateConfig {
            entities: 50,
            relations: 400,
            seed: 1,
        };
        let (out, summary) = run(&config);
        assert_eq!(summary.entities, 50);
        assert_eq!(summary.relations, 400);
        assert_eq!(
            summary.sources + summary.entities + summary.relations,
            record_count(&config)
        );
        let items = super::super::jsonl::read(&out[..], "generated").unwrap();
        assert_eq!(items.len() as u64, record_count(&config));
    }

    #[test]
    fn too_few_entities_is_an_error() {
        let mut out = Vec::new();
        let config = GenerateConfig {
            entities: 9,
            relations: 10,
            seed: 1,
        };
        assert!(matches!(
            generate(&config, &mut out, &mut |_| {}),
            Err(GenerateError::TooFewEntities(9))
        ));
    }

    #[test]
    fn skewed_ranks_stay_in_range_and_favour_the_first() {
        let mut rng = SplitMix64::new(3);
        let draws: Vec<u64> = (0..10_000).map(|_| rng.skewed(1_000, 4.0)).collect();
        assert!(draws.iter().all(|r| *r < 1_000));
        let first = draws.iter().filter(|r| **r == 0).count();
        let last_half = draws.iter().filter(|r| **r >= 500).count();
        assert!(
            first > last_half,
            "rank 0 drawn {first} times, ranks 500.. {last_half} times"
        );
    }
}
