use tiegraph::model::{
    check_slug, slugify, validate_entity, validate_relation, validate_source, Amount, Entity,
    EntityKind, ModelError, PartialDate, Period, Relation, RelationKind, Source, Status, Timestamp,
};

fn entity(id: &str, name: &str) -> Entity {
    Entity {
        id: id.into(),
        kind: EntityKind::Company,
        name: name.into(),
        aliases: vec![],
        description: None,
        country: None,
        category: None,
        identifiers: vec![],
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    }
}

fn relation(kind: RelationKind, status: Option<Status>) -> Relation {
    Relation {
        id: "r".into(),
        kind,
        from: "a".into(),
        to: "b".into(),
        status,
        role: None,
        description: None,
        amount: None,
        period: Period::default(),
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    }
}

/// `Ok` or the field the error names.
fn field_of(result: Result<(), ModelError>) -> Result<(), String> {
    result.map_err(|e| e.field().to_owned())
}

#[test]
fn slugs() {
    for good in ["cbp", "marc-benioff", "a1-2b", "x"] {
        assert_eq!(check_slug("id", good), Ok(()), "{good}");
    }
    for bad in [
        "",
        "CBP",
        "a--b",
        "-a",
        "a-",
        "a b",
        "a.b",
        "é",
        &"a".repeat(200),
    ] {
        assert!(
            check_slug("id", bad).is_err(),
            "{bad:?} should not be a slug"
        );
    }
    assert_eq!(
        slugify("U.S. Customs & Border Protection"),
        "u-s-customs-border-protection"
    );
    assert_eq!(slugify("!!!"), "x");
    // Names in other scripts keep their letters, transliterated.
    for (name, slug) in [
        ("Café René", "cafe-rene"),
        ("Иван Петров", "ivan-petrov"),
        ("北京", "bei-jing"),
        ("Mañana—hoy", "manana-hoy"),
        ("Ærø Kommune", "aero-kommune"),
        ("Αθήνα", "athena"),
    ] {
        assert_eq!(slugify(name), slug, "{name}");
    }
    // Whatever the text, the slug is a valid id.
    for name in [
        "Café René",
        "Иван Петров",
        "北京",
        "\u{1F600}",
        "\u{0}\u{7}",
        "ꀀꀁ",
        "٣٤",
    ] {
        let slug = slugify(name);
        assert!(check_slug("id", &slug).is_ok(), "{name:?} gave {slug:?}");
    }
}

#[test]
fn partial_dates() {
    let check = |text: &str, expect: Option<&str>| {
        let parsed = PartialDate::parse(text, "start")
            .ok()
            .map(|d| d.to_string());
        assert_eq!(parsed.as_deref(), expect, "{text}");
    };
    check("2019", Some("2019"));
    check("2019-07", Some("2019-07"));
    check("2019-07-11", Some("2019-07-11"));
    check("2020-02-29", Some("2020-02-29"));
    check("2019-02-29", None);
    check("2019-02-30", None);
    check("2019-13", None);
    check("2019-00", None);
    check("2019-7", None);
    check("19", None);
    check("2019-07-11-01", None);
    check("July 2019", None);
    check("", None);
    let error = PartialDate::parse("2019-13", "start").unwrap_err();
    assert_eq!(error.field(), "start");
}

#[test]
fn periods_hold_on_days() {
    let day = |t: &str| PartialDate::parse(t, "d").unwrap();
    let period = Period {
        start: Some(day("2019-07")),
        end: Some(day("2020")),
    };
    assert!(period.may_hold_on(&day("2019-07-31")));
    assert!(period.may_hold_on(&day("2020-12-31")));
    assert!(!period.may_hold_on(&day("2019-06-30")));
    assert!(!period.may_hold_on(&day("2021-01-01")));
    assert!(Period::default().may_hold_on(&day("1900")));
}

#[test]
fn entity_rules() {
    assert_eq!(field_of(validate_entity(&entity("acme", "Acme"))), Ok(()));
    assert_eq!(
        field_of(validate_entity(&entity("acme", "  "))),
        Err("name".into())
    );
    assert_eq!(
        field_of(validate_entity(&entity("Acme", "Acme"))),
        Err("id".into())
    );
    let mut e = entity("acme", "Acme");
    e.country = Some("USA".into());
    assert_eq!(field_of(validate_entity(&e)), Err("country".into()));
    e.country = Some("US".into());
    e.aliases = vec!["ok".into(), "".into()];
    assert_eq!(field_of(validate_entity(&e)), Err("aliases[1]".into()));
}

#[test]
fn relation_rules() {
    use EntityKind::*;
    use RelationKind::*;
    use Status::*;
    let check = |kind, status, from, to, expect: Result<(), &str>| {
        let result = field_of(validate_relation(&relation(kind, status), from, to));
        assert_eq!(
            result,
            expect.map_err(str::to_owned),
            "{kind:?} {status:?} {from:?}->{to:?}"
        );
    };
    check(VendorTo, Some(Active), Company, Agency, Ok(()));
    check(VendorTo, Some(Threatened), Company, Nonprofit, Ok(()));
    check(VendorTo, Some(Declined), Company, Agency, Err("status"));
    check(Donation, Some(Declined), Company, Nonprofit, Ok(()));
    check(Donation, Some(Active), Company, Nonprofit, Err("status"));
    check(PartOf, Some(Active), Agency, Agency, Ok(()));
    check(PartOf, None, Person, Agency, Err("from"));
    check(OfficerOf, None, Person, Company, Ok(()));
    check(OfficerOf, None, Company, Company, Err("from"));
    check(OfficerOf, None, Person, Person, Err("to"));
    check(EmployeeOf, None, Group, Company, Ok(()));
    check(AssociatedWith, None, Person, Person, Ok(()));

    let mut r = relation(Donation, Some(Offered));
    r.amount = Some(Amount {
        value: -1.0,
        currency: "USD".into(),
    });
    assert_eq!(
        field_of(validate_relation(&r, Company, Nonprofit)),
        Err("amount.value".into())
    );
    r.amount = Some(Amount {
        value: 250000.0,
        currency: "usd".into(),
    });
    assert_eq!(
        field_of(validate_relation(&r, Company, Nonprofit)),
        Err("amount.currency".into())
    );
    r.amount = Some(Amount {
        value: 250000.0,
        currency: "USD".into(),
    });
    r.period = Period {
        start: Some(PartialDate::parse("2020", "start").unwrap()),
        end: Some(PartialDate::parse("2019-12", "end").unwrap()),
    };
    assert_eq!(
        field_of(validate_relation(&r, Company, Nonprofit)),
        Err("end".into())
    );
    let mut looped = relation(Owns, None);
    looped.to = "a".into();
    assert_eq!(
        field_of(validate_relation(&looped, Company, Company)),
        Err("to".into())
    );
}

#[test]
fn source_rules() {
    let source = |title: &str, url: Option<&str>| Source {
        id: "s".into(),
        title: title.into(),
        publisher: None,
        url: url.map(str::to_owned),
        published: None,
        created_at: Timestamp(0),
    };
    assert_eq!(
        field_of(validate_source(&source(
            "An article",
            Some("https://example.org/a")
        ))),
        Ok(())
    );
    assert_eq!(
        field_of(validate_source(&source("", None))),
        Err("title".into())
    );
    assert_eq!(
        field_of(validate_source(&source("t", Some("ftp://example.org")))),
        Err("url".into())
    );
    assert_eq!(
        field_of(validate_source(&source("t", Some("https://exa mple.org")))),
        Err("url".into())
    );
}
