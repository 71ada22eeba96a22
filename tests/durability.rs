//! An online backup taken while writers write restores to a consistent graph. (The SIGKILL
//! tests of every write path are in `crash`.)

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tiegraph::service::restore_backup;

use crate::util::{check_store, writer, Acknowledged, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_online_backup_under_writes_restores_to_a_consistent_graph() {
    let server = TestServer::start().await;
    let url = format!("{}/graphql", server.url);
    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let url = url.clone();
            let acknowledged = Arc::clone(&acknowledged);
            tokio::spawn(async move {
                tokio::time::timeout(
                    Duration::from_millis(1500),
                    writer(url, format!("b{w}"), acknowledged),
                )
                .await
                .ok();
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before_backup: Vec<String> = acknowledged.lock().unwrap().entities.clone();
    let backup = server
        .client
        .get(format!("{}/admin/backup", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(backup.status(), 200);
    let bytes = backup.bytes().await.unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    assert!(!acknowledged.lock().unwrap().entities.is_empty());

    let restored = tempfile::tempdir().unwrap();
    let file = restored.path().join("graph.backup");
    std::fs::write(&file, &bytes).unwrap();
    let target = restored.path().join("data");
    let records = restore_backup(&target, &file).expect("the backup restores");
    assert!(records > 0);
    let check = check_store(
        &target,
        &Acknowledged {
            entities: before_backup,
            relations: vec![],
        },
    );
    assert!(
        check.lost.is_empty(),
        "acknowledged before the backup, missing from it: {:?}",
        check.lost
    );
    assert!(check.entities > 12 && check.relations >= 17);
    // Restoring over an existing store, or from a backup cut short, is refused.
    assert!(restore_backup(&target, &file).is_err());
    let cut = restored.path().join("cut.backup");
    std::fs::write(&cut, &bytes[..bytes.len() - 5]).unwrap();
    assert!(restore_backup(&restored.path().join("cut"), &cut).is_err());
    assert!(!restored.path().join("cut").exists());
    server.stop().await;
}
