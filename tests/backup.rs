use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use tiegraph::service::{restore_backup, verify_backup, BackupError, StoreError};
use tiegraph::service::{Limits, Service};

use crate::util::{dump, open_raw, seeded_service, Interrupting};

/// The trees a format 1 backup holds.
const V1_TREES: [&str; 6] = [
    "meta",
    "entities",
    "relations",
    "sources",
    "claims",
    "citations",
];

/// Every tree of a store, raw: name to its records in key order.
type Trees = BTreeMap<Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>>;

fn raw_trees(dir: &Path) -> Trees {
    let db = open_raw(dir);
    db.tree_names()
        .into_iter()
        .map(|name| {
            let records = db
                .open_tree(&name)
                .unwrap()
                .iter()
                .map(|item| {
                    let (key, value) = item.unwrap();
                    (key.to_vec(), value.to_vec())
                })
                .collect();
            (name.to_vec(), records)
        })
        .collect()
}

/// What a directory holds, by name: to see that a failed restore left nothing beside it.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A seeded store, closed, and a folder holding its backup (`graph.backup`).
struct Seeded {
    store_dir: TempDir,
    work: TempDir,
    backup: PathBuf,
    dump: String,
    records: u64,
}

fn seeded_backup() -> Seeded {
    let (service, store_dir) = seeded_service();
    let dump = dump(&service);
    let work = tempfile::tempdir().unwrap();
    let backup = work.path().join("graph.backup");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&backup).unwrap());
    let records = service.backup(&mut out).unwrap();
    drop(out);
    drop(service);
    Seeded {
        store_dir,
        work,
        backup,
        dump,
        records,
    }
}

/// `bytes` as a backup file in `dir`.
fn write_backup(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Restoring `backup` into a fresh `dir/target` fails, and leaves neither it nor a staging
/// directory behind.
fn refused(dir: &Path, backup: &Path) -> BackupError {
    let before = entries(dir);
    let target = dir.join("target");
    let error = restore_backup(&target, backup).expect_err("a bad backup is refused");
    assert!(
        !target.exists(),
        "a refused restore left {}",
        target.display()
    );
    assert_eq!(entries(dir), before, "a refused restore left something");
    assert!(
        verify_backup(backup).is_err(),
        "verify accepts what restore refuses"
    );
    error
}

#[test]
fn a_backup_restores_every_tree_byte_for_byte() {
    let (service, store_dir) = seeded_service();
    let before = dump(&service);
    let claim = service.all_relations().next().unwrap().unwrap().claims[0].clone();
    drop(service);
    // Trees this build knows nothing of, one empty and one named in bytes that are not text,
    // come back too: the backup holds whatever sled holds.
    {
        let db = open_raw(store_dir.path());
        db.open_tree("a-tree-no-build-knows")
            .unwrap()
            .insert("key", "value")
            .unwrap();
        db.open_tree("an-empty-tree").unwrap();
        db.open_tree([0xff, 0x00, b'x'])
            .unwrap()
            .insert([0u8; 3], vec![7u8; 100_000])
            .unwrap();
        db.flush().unwrap();
    }
    let work = tempfile::tempdir().unwrap();
    let backup = work.path().join("graph.backup");
    let store = Service::open(store_dir.path(), Limits::default()).unwrap();
    let records = store
        .backup(&mut std::fs::File::create(&backup).unwrap())
        .unwrap();
    drop(store);
    assert_eq!(verify_backup(&backup).unwrap(), records);

    let target = work.path().join("restored");
    assert_eq!(restore_backup(&target, &backup).unwrap(), records);
    assert_eq!(entries(work.path()), ["graph.backup", "restored"]);
    let (original, restored) = (raw_trees(store_dir.path()), raw_trees(&target));
    assert!(original.contains_key(b"an-empty-tree".as_slice()));
    assert_eq!(
        original.values().map(Vec::len).sum::<usize>() as u64,
        records
    );
    assert_eq!(original, restored, "the restored trees differ");

    let service = Service::open(&target, Limits::default()).unwrap();
    assert_eq!(dump(&service), before);
    let back = service.claim(&claim.id).unwrap().unwrap();
    assert_eq!(back.quote, claim.quote);

    // Two backups of one store are the same bytes.
    let mut again = Vec::new();
    service.backup(&mut again).unwrap();
    let mut first = Vec::new();
    drop(service);
    Service::open(store_dir.path(), Limits::default())
        .unwrap()
        .backup(&mut first)
        .unwrap();
    assert_eq!(first, again);
}

#[test]
fn a_flipped_byte_anywhere_is_refused() {
    let seeded = seeded_backup();
    let bytes = std::fs::read(&seeded.backup).unwrap();
    let mut positions: Vec<usize> = (0..bytes.len()).step_by(97).collect();
    // The header's version, and every byte of the end frame: tag, count, checksum.
    positions.push(16);
    positions.extend(bytes.len() - 13..bytes.len());
    let damaged_dir = tempfile::tempdir().unwrap();
    for (n, &position) in positions.iter().enumerate() {
        let mut damaged = bytes.clone();
        damaged[position] ^= 1 << (n % 8);
        let file = write_backup(damaged_dir.path(), "damaged.backup", &damaged);
        let error = refused(damaged_dir.path(), &file);
        assert!(
            !matches!(error, BackupError::Store(_) | BackupError::Io(_)),
            "byte {position}: {error}"
        );
    }
    assert!(positions.len() > 50, "too few positions to prove anything");

    // A changed letter in a verbatim quote is still valid JSON: only its frame's checksum
    // tells, and says which frame.
    let service = Service::open(seeded.store_dir.path(), Limits::default()).unwrap();
    let quote = service.all_relations().next().unwrap().unwrap().claims[0]
        .clone()
        .quote;
    drop(service);
    let word = quote
        .split(|c: char| !c.is_ascii_alphabetic())
        .find(|w| w.len() >= 4)
        .expect("a quote with a word in it");
    let at = bytes
        .windows(word.len())
        .position(|w| w == word.as_bytes())
        .expect("the quote is in the backup");
    let mut damaged = bytes.clone();
    damaged[at] ^= 0x20;
    let file = write_backup(damaged_dir.path(), "damaged.backup", &damaged);
    let error = refused(damaged_dir.path(), &file);
    assert!(
        matches!(error, BackupError::FrameChecksum { frame } if frame > 1),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .ends_with("fails its checksum: the backup is damaged"),
        "{error}"
    );
}

#[test]
fn a_backup_cut_short_or_lengthened_is_refused() {
    let seeded = seeded_backup();
    let bytes = std::fs::read(&seeded.backup).unwrap();
    let len = bytes.len();
    let cut_dir = tempfile::tempdir().unwrap();
    for cut in [
        0,
        5,
        18,
        19,
        25,
        len / 3,
        len / 2,
        len - 14,
        len - 13,
        len - 12,
        len - 5,
        len - 4,
        len - 1,
    ] {
        let file = write_backup(cut_dir.path(), "cut.backup", &bytes[..cut]);
        let error = refused(cut_dir.path(), &file);
        assert!(
            matches!(error, BackupError::CutShort { .. }),
            "cut at {cut}: {error}"
        );
        assert!(error.to_string().contains("cut short after"), "{error}");
    }
    let file = write_backup(cut_dir.path(), "cut.backup", &bytes[..len - 1]);
    let error = refused(cut_dir.path(), &file);
    assert!(
        matches!(error, BackupError::CutShort { records } if records == seeded.records),
        "{error}"
    );
    let mut longer = bytes.clone();
    longer.push(0);
    let file = write_backup(cut_dir.path(), "longer.backup", &longer);
    assert!(matches!(
        refused(cut_dir.path(), &file),
        BackupError::Malformed(_)
    ));
    let file = write_backup(cut_dir.path(), "other.backup", b"PK\x03\x04 a zip file");
    assert!(refused(cut_dir.path(), &file)
        .to_string()
        .contains("not a tiegraph backup"));
}

/// A format 1 backup of the trees in `dir`, written by hand.
fn v1_backup(dir: &Path) -> (Vec<u8>, u64) {
    let trees = raw_trees(dir);
    let mut out = b"TIEGRAPH-BACKUP 1\n".to_vec();
    let mut count = 0u64;
    for name in V1_TREES {
        for (key, value) in &trees[name.as_bytes()] {
            out.push(1);
            out.push(name.len() as u8);
            out.extend(name.as_bytes());
            out.extend((key.len() as u32).to_be_bytes());
            out.extend(key);
            out.extend((value.len() as u32).to_be_bytes());
            out.extend(value);
            count += 1;
        }
    }
    out.push(0);
    out.extend(count.to_be_bytes());
    (out, count)
}

#[test]
fn a_format_1_backup_still_restores_with_its_checks() {
    let seeded = seeded_backup();
    // A format 1 backup is of a layout 1 store: build one from the seeded graph.
    let v1_store = tempfile::tempdir().unwrap();
    let (service, _dir) = seeded_service();
    let records_before = crate::util::records(&service);
    crate::util::write_v1_store(&service, v1_store.path());
    drop(service);
    let (v1, count) = v1_backup(v1_store.path());
    assert!(count > 0);
    let work = tempfile::tempdir().unwrap();
    let file = write_backup(work.path(), "old.backup", &v1);
    assert_eq!(verify_backup(&file).unwrap(), count);
    let target = work.path().join("restored");
    assert_eq!(restore_backup(&target, &file).unwrap(), count);
    // Restoring opens the store to check it, which upgrades it to layout 2, every record kept.
    let service = Service::open(&target, Limits::default()).unwrap();
    assert_eq!(dump(&service), seeded.dump);
    assert_eq!(crate::util::records(&service), records_before);
    drop(service);

    // Its structural checks stand: cut short, a wrong count, an unknown tree or tag.
    let bad = tempfile::tempdir().unwrap();
    let file = write_backup(bad.path(), "cut.backup", &v1[..v1.len() - 3]);
    assert!(matches!(
        refused(bad.path(), &file),
        BackupError::CutShort { .. }
    ));
    let mut wrong_count = v1.clone();
    let last = wrong_count.len() - 1;
    wrong_count[last] ^= 1;
    let file = write_backup(bad.path(), "count.backup", &wrong_count);
    assert!(refused(bad.path(), &file)
        .to_string()
        .contains("the end frame counts"));
    let mut unknown_tree = b"TIEGRAPH-BACKUP 1\n\x01\x05ghost".to_vec();
    unknown_tree.extend([0, 0, 0, 1, b'k', 0, 0, 0, 1, b'v', 0]);
    unknown_tree.extend(1u64.to_be_bytes());
    let file = write_backup(bad.path(), "tree.backup", &unknown_tree);
    assert!(refused(bad.path(), &file).to_string().contains("`ghost`"));
    let file = write_backup(bad.path(), "tag.backup", b"TIEGRAPH-BACKUP 1\n\x07");
    assert!(refused(bad.path(), &file)
        .to_string()
        .contains("unknown tag 0x07"));
}

#[test]
fn a_restore_that_fails_after_checking_removes_what_it_wrote() {
    // A whole, undamaged backup of a store from a future schema: it is written, then fails to
    // open, and nothing of it stays.
    let mut future = b"TIEGRAPH-BACKUP 1\n\x01\x04meta".to_vec();
    future.extend((b"schema_version".len() as u32).to_be_bytes());
    future.extend(b"schema_version");
    future.extend(4u32.to_be_bytes());
    future.extend(99u32.to_be_bytes());
    future.push(0);
    future.extend(1u64.to_be_bytes());
    let work = tempfile::tempdir().unwrap();
    let file = write_backup(work.path(), "future.backup", &future);
    assert_eq!(verify_backup(&file).unwrap(), 1);
    let error = refused_after_writing(work.path(), &file);
    assert!(
        matches!(
            error,
            BackupError::Store(StoreError::SchemaVersion { found: 99, .. })
        ),
        "{error}"
    );
}

fn refused_after_writing(dir: &Path, backup: &Path) -> BackupError {
    let target = dir.join("target");
    let error = restore_backup(&target, backup).expect_err("refused");
    assert!(!target.exists());
    assert_eq!(entries(dir), ["future.backup"]);
    error
}

#[test]
fn a_restore_into_a_store_is_refused_and_into_an_empty_dir_works() {
    let seeded = seeded_backup();
    let target = seeded.work.path().join("data");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("something"), "kept").unwrap();
    let error = restore_backup(&target, &seeded.backup).expect_err("not into a full dir");
    assert!(matches!(error, BackupError::NotEmpty(_)), "{error}");
    assert_eq!(entries(&target), ["something"]);
    assert_eq!(entries(seeded.work.path()), ["data", "graph.backup"]);

    // A refused backup leaves an empty target empty.
    let empty = seeded.work.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let cut = write_backup(seeded.work.path(), "cut.backup", b"TIEGRAPH-BACKUP 2\n\x02");
    assert!(restore_backup(&empty, &cut).is_err());
    assert!(entries(&empty).is_empty());

    assert_eq!(
        restore_backup(&empty, &seeded.backup).unwrap(),
        seeded.records
    );
    let service = Service::open(&empty, Limits::default()).unwrap();
    assert_eq!(dump(&service), seeded.dump);
    assert_eq!(
        entries(seeded.work.path()),
        ["cut.backup", "data", "empty", "graph.backup"]
    );
}

#[test]
fn a_backup_shows_the_store_as_it_began_whatever_is_written_meanwhile() {
    use tiegraph::model::{EntityDraft, EntityKind, EntityPatch};
    use tiegraph::service::ImportItem;

    let (service, _dir) = seeded_service();
    let bulk: Vec<_> = (0..400)
        .map(|i| {
            let draft = EntityDraft {
                id: Some(format!("bulk-{i:03}")),
                kind: EntityKind::Company,
                name: format!("Bulk {i}"),
                aliases: vec![],
                description: Some("a company with a description long enough to fill pages".into()),
                country: None,
                category: None,
                identifiers: vec![],
            };
            (i + 1, ImportItem::Entity(draft))
        })
        .collect();
    service.import(bulk, &|_, _| {}).unwrap();
    let before = dump(&service);
    let sequence = service.sequence().unwrap();
    let relation = service.all_relations().next().unwrap().unwrap().relation.id;
    let writes = || {
        // Records the backup has read and records it has not, in the tree it is reading
        // (entities) and in trees it reads later (relations, meta): changed, deleted, created.
        let rename = |name: &str| EntityPatch {
            name: Some(name.into()),
            ..EntityPatch::default()
        };
        service
            .update_entity("bulk-000", rename("Changed"))
            .unwrap();
        service.update_entity("raices", rename("Changed")).unwrap();
        service.delete_entity("bulk-001", false).unwrap();
        service.delete_entity("bulk-399", false).unwrap();
        service.delete_relation(&relation).unwrap();
        for id in ["aaa-created", "zzz-created"] {
            let draft = EntityDraft {
                id: Some(id.into()),
                kind: EntityKind::Person,
                name: "Created".into(),
                aliases: vec![],
                description: None,
                country: None,
                category: None,
                identifiers: vec![],
            };
            service.create_entity(draft).unwrap();
        }
    };
    let mut out = Interrupting::new(20_000, writes);
    let records = service.backup(&mut out).unwrap();
    assert!(
        out.midway.is_none(),
        "the writes ran before the backup ended"
    );
    assert!(out.bytes.len() > 2 * out.at, "the writes landed mid-backup");
    assert_ne!(dump(&service), before, "the writes landed");

    let work = tempfile::tempdir().unwrap();
    let file = write_backup(work.path(), "graph.backup", &out.bytes);
    let target = work.path().join("restored");
    assert_eq!(restore_backup(&target, &file).unwrap(), records);
    let restored = Service::open(&target, Limits::default()).unwrap();
    assert_eq!(
        dump(&restored),
        before,
        "the backup is not the store as it began"
    );
    assert_eq!(restored.sequence().unwrap(), sequence);
}
