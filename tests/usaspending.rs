//! USAspending contract award CSVs imported into real sled stores, through the service and
//! through the `tiegraph` binary: the example summaries file, a transactions file folded into
//! awards, a later overlapping download, re-imports, refused files and skipped award types.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tiegraph::formats::usaspending::{self, parse_award_quote, FileKind};
use tiegraph::formats::{jsonl, FormatError, ImportBatch};
use tiegraph::model::{EntityKind, RelationKind};
use tiegraph::service::{ImportSummary, Limits, Service};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/usaspending-awards.csv")
}

fn empty_service(dir: &tempfile::TempDir) -> Service {
    Service::open(&dir.path().join("data"), Limits::default()).expect("open a store in a temp dir")
}

/// The claim quotes a relation holds, as the cli gives them to the reader.
fn read(service: &Service, text: &[u8], file: &str) -> Result<ImportBatch, FormatError> {
    usaspending::read(
        text,
        file,
        &|id| {
            service
                .relation(id)
                .expect("the store reads")
                .map(|r| r.claims.into_iter().map(|c| c.quote).collect())
                .unwrap_or_default()
        },
        &|draft| service.resolved_id(draft),
    )
}

fn import(service: &Service, text: &[u8], file: &str) -> ImportSummary {
    read(service, text, file)
        .expect("the file reads")
        .import(service, &|_, _| {})
        .expect("the file imports")
}

fn changed(summary: &ImportSummary) -> usize {
    summary.entities_created
        + summary.entities_updated
        + summary.sources_created
        + summary.sources_updated
        + summary.relations_created
        + summary.relations_updated
        + summary.claims_added
}

fn dump(service: &Service) -> String {
    let mut out = Vec::new();
    jsonl::write_all(service, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

const NORTHWIND: &str = "northwind-example-analytics-inc-nwexample001";
const CBP: &str = "u-s-customs-and-border-protection";

#[test]
fn the_example_summaries_become_agencies_recipients_and_ties_and_again_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let service = empty_service(&dir);
    let text = std::fs::read(example()).unwrap();
    let batch = read(&service, &text, "usaspending-awards.csv").unwrap();
    assert_eq!(
        batch.notes,
        vec!["read 8 prime award summary row(s) of 8 award(s), 5 recipient(s), 5 agenc(ies)"]
    );
    let summary = batch.import(&service, &|_, _| {}).unwrap();
    assert_eq!(
        (
            summary.entities_created,
            summary.sources_created,
            summary.relations_created,
            summary.claims_added
        ),
        (11, 9, 12, 14),
        "{summary:?}"
    );

    let northwind = service.entity(NORTHWIND).unwrap().unwrap();
    assert_eq!(northwind.kind, EntityKind::Company);
    assert_eq!(northwind.name, "Northwind Example Analytics, Inc.");
    let ids: Vec<(&str, &str)> = northwind
        .identifiers
        .iter()
        .map(|i| (i.scheme.as_str(), i.value.as_str()))
        .collect();
    assert_eq!(ids, [("uei", "NWEXAMPLE001"), ("duns", "000000001")]);
    let cbp = service.entity(CBP).unwrap().unwrap();
    assert_eq!(cbp.kind, EntityKind::Agency);
    assert_eq!(cbp.identifiers[0].scheme, "usaspending-subagency");
    assert_eq!(cbp.identifiers[0].value, "7014");
    let dhs = service
        .entity("department-of-homeland-security")
        .unwrap()
        .unwrap();
    assert_eq!(dhs.identifiers[0].scheme, "usaspending-agency");
    assert_eq!(dhs.identifiers[0].value, "070");

    let part_of = service
        .relation(&format!("{CBP}-part-of-department-of-homeland-security"))
        .unwrap()
        .unwrap();
    assert_eq!(part_of.relation.kind, RelationKind::PartOf);
    assert_eq!(part_of.claims[0].source, usaspending::STRUCTURE_SOURCE);
    let owns = service
        .relation(&format!(
            "{NORTHWIND}-owns-sample-cloud-widgets-llc-exmpl0000003"
        ))
        .unwrap()
        .unwrap();
    assert_eq!(owns.relation.kind, RelationKind::Owns);
    // One parent not in the file, of two recipients: one entity, two OWNS ties.
    let holdings = "example-sensor-holdings-inc-exmpl0000090";
    assert!(service.entity(holdings).unwrap().is_some());
    for child in [
        "example-border-sensors-llc-exmpl0000001",
        "example-drone-works-corp-exmpl0000004",
    ] {
        assert!(service
            .relation(&format!("{holdings}-owns-{child}"))
            .unwrap()
            .is_some());
    }

    // Two awards to CBP: one tie, their sum, their span, a claim each citing its permalink.
    let vendor = service
        .relation(&format!("{NORTHWIND}-vendor-to-{CBP}"))
        .unwrap()
        .unwrap();
    let tie = &vendor.relation;
    assert_eq!(tie.kind, RelationKind::VendorTo);
    let amount = tie.amount.as_ref().unwrap();
    assert_eq!(
        (amount.value, amount.currency.as_str()),
        (2_248_000.0, "USD")
    );
    assert_eq!(
        (
            tie.period.start.map(|d| d.to_string()),
            tie.period.end.map(|d| d.to_string())
        ),
        (Some("2020-10-01".into()), Some("2027-01-14".into()))
    );
    assert_eq!(vendor.claims.len(), 2);
    let award = parse_award_quote(&vendor.claims[1].quote).unwrap();
    assert_eq!(award.kind, FileKind::Summaries);
    assert_eq!(
        award.key,
        "CONT_AWD_70B0EX23F00000004_7014_70B0EX22D00000009_7014"
    );
    assert_eq!(award.cents, 215_000_000);
    assert_eq!(award.last_modified.as_deref(), Some("2026-11-20"));
    assert!(vendor.claims[1]
        .quote
        .starts_with("[generated from the fields of a USAspending download] prime award summary CONT_AWD_70B0EX23F00000004_7014_70B0EX22D00000009_7014 (PIID 70B0EX23F00000004): total_obligated_amount 2150000.00; period_of_performance_start_date 2023-01-15;"));
    let source = service.source(&vendor.claims[1].source).unwrap().unwrap();
    assert_eq!(source.title, "USAspending award 70B0EX23F00000004");
    assert_eq!(source.publisher.as_deref(), Some("USAspending.gov"));
    assert_eq!(
        source.url.as_deref(),
        Some("https://www.usaspending.gov/award/CONT_AWD_70B0EX23F00000004_7014_70B0EX22D00000009_7014/")
    );
    assert_eq!(
        source.published.map(|d| d.to_string()).as_deref(),
        Some("2026-11-20")
    );
    // The IDV (an IDC, told by idv_type_code) is read like the contracts.
    assert!(service
        .relation("sample-cloud-widgets-llc-exmpl0000003-vendor-to-federal-acquisition-service")
        .unwrap()
        .is_some());

    let before = dump(&service);
    let again = import(&service, &text, "usaspending-awards.csv");
    assert_eq!(changed(&again), 0, "{again:?}");
    assert_eq!(again.unchanged, 11 + 9 + 12);
    assert_eq!(dump(&service), before);
}

/// The header of a prime transactions download, in its order (the columns this reader does
/// not use included, as a real download has them).
const TX_HEADER: &str = "contract_transaction_unique_key,contract_award_unique_key,award_id_piid,modification_number,transaction_number,parent_award_agency_id,parent_award_agency_name,parent_award_id_piid,parent_award_modification_number,federal_action_obligation,total_dollars_obligated,total_outlayed_amount_for_overall_award,base_and_exercised_options_value,current_total_value_of_award,base_and_all_options_value,potential_total_value_of_award,action_date,action_date_fiscal_year,period_of_performance_start_date,period_of_performance_current_end_date,period_of_performance_potential_end_date,ordering_period_end_date,solicitation_date,awarding_agency_code,awarding_agency_name,awarding_sub_agency_code,awarding_sub_agency_name,awarding_office_code,awarding_office_name,funding_agency_code,funding_agency_name,funding_sub_agency_code,funding_sub_agency_name,recipient_uei,recipient_duns,recipient_name,recipient_name_raw,cage_code,recipient_parent_uei,recipient_parent_duns,recipient_parent_name,recipient_parent_name_raw,award_type_code,award_type,idv_type_code,idv_type,transaction_description,naics_code,usaspending_permalink,initial_report_date,last_modified_date";

/// One transaction of award `piid` to Northwind from CBP.
fn tx(
    piid: &str,
    modification: u32,
    obligation: &str,
    action: &str,
    end: &str,
    modified: &str,
) -> String {
    let key = format!("CONT_AWD_{piid}_7014_-NONE-_-NONE-");
    format!(
        "{key}_{modification},{key},{piid},{modification},0,,,,,{obligation},0,0,0,0,0,0,{action},2021,2021-01-04,{end},{end},,,070,Department of Homeland Security,7014,U.S. Customs and Border Protection,70B0EX,EXAMPLE OFFICE,070,Department of Homeland Security,7014,U.S. Customs and Border Protection,NWEXAMPLE001,000000001,\"Northwind Example Analytics, Inc.\",\"NORTHWIND EXAMPLE ANALYTICS, INC.\",0EX01,NWEXAMPLE001,000000001,\"Northwind Example Analytics, Inc.\",,D,DEFINITIVE CONTRACT,,,EXAMPLE WORK,541519,https://www.usaspending.gov/award/{key}/,{action},{modified}"
    )
}

fn file(rows: &[String]) -> Vec<u8> {
    format!("{TX_HEADER}\n{}\n", rows.join("\n")).into_bytes()
}

fn vendor_tie(service: &Service) -> tiegraph::model::RelationWithClaims {
    service
        .relation(&format!("{NORTHWIND}-vendor-to-{CBP}"))
        .unwrap()
        .unwrap()
}

#[test]
fn transactions_fold_into_awards_and_a_later_overlapping_download_changes_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let service = empty_service(&dir);
    let first = file(&[
        tx(
            "70B0EXA",
            0,
            "1000.00",
            "2021-01-04",
            "2021-12-31",
            "2021-01-05 08:00:00",
        ),
        tx(
            "70B0EXB",
            0,
            "250.50",
            "2021-02-01",
            "2022-01-31",
            "2021-02-02 08:00:00",
        ),
        tx(
            "70B0EXA",
            1,
            "500.25",
            "2021-03-01",
            "2022-06-30",
            "2021-03-02 08:00:00",
        ),
        tx(
            "70B0EXC",
            0,
            "75.00",
            "2021-04-01",
            "2021-09-30",
            "2021-04-02 08:00:00",
        ),
        tx(
            "70B0EXA",
            2,
            "-100.00",
            "2021-05-01",
            "2022-06-30",
            "2021-05-02 08:00:00",
        ),
        tx(
            "70B0EXB",
            1,
            "49.50",
            "2021-06-01",
            "2022-01-31",
            "2021-06-02 08:00:00",
        ),
    ]);
    let summary = import(&service, &first, "Contracts_PrimeTransactions_1.csv");
    assert_eq!(
        (
            summary.entities_created,
            summary.sources_created,
            summary.relations_created,
            summary.claims_added
        ),
        // Northwind, DHS, CBP; three awards; VENDOR_TO and PART_OF (its parent is itself).
        (3, 1 + 3, 2, 1 + 3),
        "{summary:?}"
    );
    let tie = vendor_tie(&service);
    assert_eq!(tie.claims.len(), 3);
    assert_eq!(
        tie.relation.amount.as_ref().map(|a| a.value),
        Some(1_775.25)
    );
    assert_eq!(
        tie.relation.period.end.map(|d| d.to_string()).as_deref(),
        Some("2022-06-30")
    );
    let a = parse_award_quote(&tie.claims[0].quote).unwrap();
    assert_eq!(a.kind, FileKind::Transactions);
    assert_eq!(a.cents, 140_025);
    assert_eq!(
        a.transactions,
        Some((3, "2021-01-04".into(), "2021-05-01".into()))
    );
    assert!(tie.claims[0].quote.contains(
        ": 3 transactions dated 2021-01-04..2021-05-01, federal_action_obligation sum 1400.25; "
    ));

    let before = dump(&service);
    let again = import(&service, &first, "Contracts_PrimeTransactions_1.csv");
    assert_eq!(changed(&again), 0, "{again:?}");
    assert_eq!(dump(&service), before);

    // A later download: award A has one more transaction, B is as it was, D is new, C is
    // not in it (a narrower search): C still counts, from its claim.
    let later = file(&[
        tx(
            "70B0EXA",
            0,
            "1000.00",
            "2021-01-04",
            "2021-12-31",
            "2021-01-05 08:00:00",
        ),
        tx(
            "70B0EXA",
            1,
            "500.25",
            "2021-03-01",
            "2022-06-30",
            "2021-03-02 08:00:00",
        ),
        tx(
            "70B0EXA",
            2,
            "-100.00",
            "2021-05-01",
            "2022-06-30",
            "2021-05-02 08:00:00",
        ),
        tx(
            "70B0EXA",
            3,
            "300.00",
            "2022-01-10",
            "2023-06-30",
            "2022-01-11 09:00:00",
        ),
        tx(
            "70B0EXB",
            0,
            "250.50",
            "2021-02-01",
            "2022-01-31",
            "2021-02-02 08:00:00",
        ),
        tx(
            "70B0EXB",
            1,
            "49.50",
            "2021-06-01",
            "2022-01-31",
            "2021-06-02 08:00:00",
        ),
        tx(
            "70B0EXD",
            0,
            "1000.00",
            "2022-02-01",
            "2022-12-31",
            "2022-02-02 08:00:00",
        ),
    ]);
    let summary = import(&service, &later, "Contracts_PrimeTransactions_2.csv");
    assert_eq!(
        (
            summary.entities_created + summary.entities_updated,
            summary.sources_created,
            summary.sources_updated,
            summary.relations_created,
            summary.relations_updated,
            summary.claims_added
        ),
        // A's source is newer (its published date), D's is new; A and D claim the tie anew.
        (0, 1, 1, 0, 1, 2),
        "{summary:?}"
    );
    let tie = vendor_tie(&service);
    assert_eq!(tie.claims.len(), 5);
    // A at its latest (1700.25, not also its earlier 1400.25), B, C and D.
    assert_eq!(
        tie.relation.amount.as_ref().map(|a| a.value),
        Some(1_700.25 + 300.00 + 75.00 + 1_000.00)
    );
    assert_eq!(
        (
            tie.relation.period.start.map(|d| d.to_string()),
            tie.relation.period.end.map(|d| d.to_string())
        ),
        (Some("2021-01-04".into()), Some("2023-06-30".into()))
    );
    // Reading the first file again now changes nothing: its A is older than the store's.
    let older = import(&service, &first, "Contracts_PrimeTransactions_1.csv");
    assert_eq!(changed(&older), 0, "{older:?}");
    let later_again = import(&service, &later, "Contracts_PrimeTransactions_2.csv");
    assert_eq!(changed(&later_again), 0, "{later_again:?}");
}

#[test]
fn a_missing_column_or_a_bad_amount_is_refused_with_its_line_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let service = empty_service(&dir);
    let header = TX_HEADER
        .replace(",recipient_uei", "")
        .replace(",recipient_duns", "")
        .replace(",action_date,", ",");
    let text = format!("{header}\n");
    match read(&service, text.as_bytes(), "tx.csv") {
        Err(error @ FormatError::BadLine { .. }) => assert_eq!(
            error.to_string(),
            "tx.csv:1: not a USAspending contract award download: a prime transactions file needs the columns action_date, recipient_uei (or recipient_duns)"
        ),
        other => panic!("expected the header to be refused, got {other:?}"),
    }
    let bad = file(&[
        tx(
            "70B0EXA",
            0,
            "1000.00",
            "2021-01-04",
            "2021-12-31",
            "2021-01-05",
        ),
        tx(
            "70B0EXA",
            1,
            "\"1,000.00\"",
            "2021-01-04",
            "2021-12-31",
            "2021-01-05",
        ),
    ]);
    match read(&service, &bad, "tx.csv") {
        Err(error) => assert_eq!(
            error.to_string(),
            "tx.csv:3: federal_action_obligation `1,000.00` is not a number"
        ),
        other => panic!("expected line 3 to be refused, got {other:?}"),
    }
    // A bad date is the reader's; a bad permalink is the service's: both by line, nothing written.
    let bad_url = file(&[
        tx(
            "70B0EXA",
            0,
            "1000.00",
            "2021-01-04",
            "2021-12-31",
            "2021-01-05",
        ),
        tx(
            "70B0EXB",
            0,
            "10.00",
            "2021-01-04",
            "2021-12-31",
            "2021-01-05",
        )
        .replace("https://www.usaspending.gov/award/", "not a url/"),
    ]);
    match read(&service, &bad_url, "tx.csv")
        .unwrap()
        .import(&service, &|_, _| {})
    {
        Err(FormatError::BadLine {
            file,
            line,
            message,
        }) => {
            assert_eq!((file.as_str(), line), ("tx.csv", 3), "{message}");
            assert!(message.contains("not an http(s) URL"), "{message}");
        }
        other => panic!("expected line 3 to be refused, got {other:?}"),
    }
    assert!(service.is_empty());
    assert_eq!((service.entity_count(), service.relation_count()), (0, 0));
}

fn tiegraph(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tiegraph"))
        .args(args)
        .current_dir(dir)
        .env_remove("TIEGRAPH_DATA_DIR")
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_binary_imports_the_example_skips_grants_by_name_and_refuses_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let example = example();
    let example = example.to_str().unwrap();
    let first = tiegraph(
        &[
            "import",
            "--format",
            "usaspending",
            "--data-dir",
            data,
            example,
        ],
        dir.path(),
    );
    assert!(first.status.success(), "{}", text(&first.stderr));
    let out = text(&first.stdout);
    assert!(
        out.contains("11 entities created, 0 updated; 9 sources created, 0 updated; 12 relations created, 0 updated; 14 claims added"),
        "{out}"
    );
    let again = tiegraph(
        &[
            "import",
            "--format",
            "usaspending",
            "--data-dir",
            data,
            example,
        ],
        dir.path(),
    );
    assert!(again.status.success(), "{}", text(&again.stderr));
    let out = text(&again.stdout);
    assert!(
        out.contains("0 entities created, 0 updated; 0 sources created, 0 updated; 0 relations created, 0 updated; 0 claims added; 32 records unchanged"),
        "{out}"
    );

    // An assistance row in a contracts file: skipped, counted and named.
    let mixed = dir.path().join("mixed.csv");
    let grant = |n: u32| {
        tx(
            "70B0EXG",
            n,
            "5.00",
            "2021-01-04",
            "2021-12-31",
            "2021-01-05",
        )
        .replace("CONT_AWD_70B0EXG", &format!("ASST_NON_G{n}"))
        .replace(",D,DEFINITIVE CONTRACT,", ",04,PROJECT GRANT,")
    };
    std::fs::write(
        &mixed,
        file(&[
            grant(1),
            tx(
                "70B0EXA",
                0,
                "1000.00",
                "2021-01-04",
                "2021-12-31",
                "2021-01-05",
            ),
            grant(2),
        ]),
    )
    .unwrap();
    let fresh = dir.path().join("fresh");
    let output = tiegraph(
        &[
            "import",
            "--format",
            "usaspending",
            "--data-dir",
            fresh.to_str().unwrap(),
            mixed.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let notes = text(&output.stderr);
    assert!(
        notes.contains("note: skipped 2 row(s) of award type 'PROJECT GRANT' (code 04): not a contract or IDV award type"),
        "{notes}"
    );
    assert!(
        notes.contains("note: read 3 prime transaction row(s) of 1 award(s)"),
        "{notes}"
    );

    // A bad amount: the file and line, and nothing written.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        file(&[
            tx(
                "70B0EXA",
                0,
                "1000.00",
                "2021-01-04",
                "2021-12-31",
                "2021-01-05",
            ),
            tx(
                "70B0EXA",
                1,
                "ten",
                "2021-01-04",
                "2021-12-31",
                "2021-01-05",
            ),
        ]),
    )
    .unwrap();
    let empty = dir.path().join("empty");
    let output = tiegraph(
        &[
            "import",
            "--format",
            "usaspending",
            "--data-dir",
            empty.to_str().unwrap(),
            bad.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(!output.status.success());
    let message = text(&output.stderr);
    assert!(
        message.contains(&format!(
            "{}:3: federal_action_obligation `ten` is not a number",
            bad.display()
        )),
        "{message}"
    );
    let service = Service::open(&empty, Limits::default()).unwrap();
    assert!(service.is_empty());
}
