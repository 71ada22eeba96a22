use serde_json::{json, Value};

use crate::util::TestServer;

#[test]
fn schema_graphql_is_the_served_schema() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == tiegraph::api::sdl(),
        "schema.graphql is stale: regenerate it with `cargo run -q -- schema > schema.graphql`"
    );
}

#[tokio::test]
async fn every_type_field_argument_and_enum_value_is_described() {
    let server = TestServer::start().await;
    let data = server
        .data(
            r#"{ __schema { types { name kind description
                 fields { name description args { name description } }
                 inputFields { name description }
                 enumValues { name description } } } }"#,
            json!({}),
        )
        .await;
    let described = |v: &Value| {
        v["description"]
            .as_str()
            .is_some_and(|d| !d.trim().is_empty())
    };
    let mut missing = Vec::new();
    for ty in data["__schema"]["types"].as_array().unwrap() {
        let name = ty["name"].as_str().unwrap();
        // Introspection types and the spec's own scalars are described by the GraphQL spec.
        if name.starts_with("__") || ["ID", "String", "Int", "Float", "Boolean"].contains(&name) {
            continue;
        }
        if !described(ty) {
            missing.push(name.to_owned());
        }
        let members = ["fields", "inputFields", "enumValues"];
        for member in members
            .iter()
            .flat_map(|m| ty[*m].as_array().cloned().unwrap_or_default())
        {
            let member_name = member["name"].as_str().unwrap();
            if !described(&member) {
                missing.push(format!("{name}.{member_name}"));
            }
            for arg in member["args"].as_array().cloned().unwrap_or_default() {
                if !described(&arg) {
                    missing.push(format!(
                        "{name}.{member_name}({})",
                        arg["name"].as_str().unwrap()
                    ));
                }
            }
        }
    }
    assert!(missing.is_empty(), "undescribed: {missing:#?}");
    server.stop().await;
}

#[tokio::test]
async fn the_schema_describes_itself_not_what_a_schema_is() {
    let server = TestServer::start().await;
    let answer = server
        .data("{ __schema { description queryType { name } } }", json!({}))
        .await;
    let description = answer["__schema"]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(
        description.starts_with("tiegraph: a knowledge graph of ties"),
        "{answer}"
    );
    assert!(
        !description.contains("A GraphQL Schema defines"),
        "{answer}"
    );
    assert_eq!(answer["__schema"]["queryType"]["name"], "QueryRoot");
    server.stop().await;
}
