//! The orders lists come in (by id, name, degree or last update, either way) and their
//! cursors. A cursor carries its item's sort key and id, so the next page goes on from its
//! place even when the graph changed in between: nothing is read twice or skipped but what
//! moved across the place.

use std::borrow::Cow;
use std::cmp::Ordering;

use petgraph::stable_graph::NodeIndex;

use super::GraphIndex;

/// What a list is ordered by; ties are broken by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderField {
    #[default]
    Id,
    /// The name as searches compare it (lower-case ASCII words).
    Name,
    /// How many relations the entity is an end of.
    Degree,
    /// When it was last written.
    UpdatedAt,
}

/// An order: a field, either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Order {
    pub field: OrderField,
    pub descending: bool,
}

/// An item's key in its order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey<'a> {
    /// Ordered by id alone.
    None,
    Number(i64),
    Text(Cow<'a, str>),
}

/// Where a page starts: after the item with this key and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    key: SortKey<'static>,
    id: String,
}

impl Order {
    fn tag(self) -> &'static str {
        match (self.field, self.descending) {
            (OrderField::Id, false) => "",
            (OrderField::Id, true) => "id-desc",
            (OrderField::Name, false) => "name",
            (OrderField::Name, true) => "name-desc",
            (OrderField::Degree, false) => "degree",
            (OrderField::Degree, true) => "degree-desc",
            (OrderField::UpdatedAt, false) => "updated",
            (OrderField::UpdatedAt, true) => "updated-desc",
        }
    }

    /// The cursor of an item. Ascending by id it is the id itself, as it always was.
    pub fn cursor(self, key: &SortKey<'_>, id: &str) -> String {
        match (self.tag(), key) {
            ("", _) => id.to_owned(),
            (tag, SortKey::None) => format!("{tag}::{id}"),
            (tag, SortKey::Number(n)) => format!("{tag}:{n}:{id}"),
            (tag, SortKey::Text(text)) => format!("{tag}:{text}:{id}"),
        }
    }

    /// The place a cursor of this order marks; `None` when it is not a cursor of this order.
    pub fn place(self, cursor: &str) -> Option<Place> {
        let tag = self.tag();
        if tag.is_empty() {
            return Some(Place {
                key: SortKey::None,
                id: cursor.to_owned(),
            });
        }
        let rest = cursor.strip_prefix(tag)?.strip_prefix(':')?;
        // Keys hold no colon (numbers, and names of ASCII letters, digits and spaces); ids may.
        let (key, id) = rest.split_once(':')?;
        let key = match self.field {
            OrderField::Id => SortKey::None,
            OrderField::Name => SortKey::Text(Cow::Owned(key.to_owned())),
            OrderField::Degree | OrderField::UpdatedAt => SortKey::Number(key.parse().ok()?),
        };
        Some(Place {
            key,
            id: id.to_owned(),
        })
    }

    fn compare(self, a: (&SortKey<'_>, &str), b: (&SortKey<'_>, &str)) -> Ordering {
        let by_key = a.0.cmp(b.0);
        let by_key = if self.descending {
            by_key.reverse()
        } else {
            by_key
        };
        let by_id = a.1.cmp(b.1);
        by_key.then(if self.descending && self.field == OrderField::Id {
            by_id.reverse()
        } else {
            by_id
        })
    }

    /// The first `take` items after `after`, in this order, each with its cursor. It costs
    /// a pass over the items and a sort of the page alone, not of every item.
    pub fn page<'a, T>(
        self,
        items: impl IntoIterator<Item = (SortKey<'a>, &'a str, T)>,
        after: Option<&Place>,
        take: usize,
    ) -> Vec<(String, T)> {
        let mut items: Vec<_> = items
            .into_iter()
            .filter(|(key, id, _)| {
                after.is_none_or(|p| self.compare((key, id), (&p.key, &p.id)) == Ordering::Greater)
            })
            .collect();
        let by_order = |a: &(SortKey<'a>, &'a str, T), b: &(SortKey<'a>, &'a str, T)| {
            self.compare((&a.0, a.1), (&b.0, b.1))
        };
        if take == 0 {
            return Vec::new();
        }
        if items.len() > take {
            items.select_nth_unstable_by(take - 1, by_order);
            items.truncate(take);
        }
        items.sort_unstable_by(by_order);
        items
            .into_iter()
            .map(|(key, id, item)| (self.cursor(&key, id), item))
            .collect()
    }
}

impl GraphIndex {
    /// An entity's key in a list ordered by `field`.
    pub fn entity_key(&self, node: NodeIndex, field: OrderField) -> SortKey<'_> {
        let data = self.node_data(node);
        match field {
            OrderField::Id => SortKey::None,
            OrderField::Name => SortKey::Text(Cow::Borrowed(data.name_key())),
            OrderField::Degree => SortKey::Number(self.degree(node) as i64),
            OrderField::UpdatedAt => SortKey::Number(data.updated_at.0),
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn ids(page: Vec<(String, &str)>) -> Vec<&str> {
        page.into_iter().map(|(_, id)| id).collect()
    }

    fn items<'a>(keys: &[(i64, &'a str)]) -> Vec<(SortKey<'a>, &'a str, &'a str)> {
        keys.iter()
            .map(|&(n, id)| (SortKey::Number(n), id, id))
            .collect()
    }

    #[test]
    fn pages_follow_their_cursors_in_either_direction_with_ties_broken_by_id() {
        let all = [(3, "c"), (1, "a"), (2, "b"), (2, "a2"), (5, "e")];
        for descending in [false, true] {
            let order = Order {
                field: OrderField::Degree,
                descending,
            };
            let mut seen = Vec::new();
            let mut after: Option<Place> = None;
            loop {
                let page = order.page(items(&all), after.as_ref(), 2);
                let Some((cursor, _)) = page.last() else {
                    break;
                };
                after = Some(order.place(cursor).unwrap());
                seen.extend(ids(page));
            }
            let expected = if descending {
                ["e", "c", "a2", "b", "a"]
            } else {
                ["a", "a2", "b", "c", "e"]
            };
            assert_eq!(seen, expected, "descending {descending}");
        }
    }

    #[test]
    fn a_place_survives_its_item_leaving_and_cursors_of_other_orders_are_refused() {
        let order = Order {
            field: OrderField::Name,
            descending: false,
        };
        let key = SortKey::Text("acme".into());
        let cursor = order.cursor(&key, "acme:1");
        assert_eq!(cursor, "name:acme:acme:1");
        let place = order.place(&cursor).unwrap();
        let rest = [
            (SortKey::Text("zeta".into()), "z", "z"),
            (SortKey::Text("acme".into()), "acme:2", "acme:2"),
            (SortKey::Text("ab".into()), "ab", "ab"),
        ];
        assert_eq!(ids(order.page(rest, Some(&place), 5)), ["acme:2", "z"]);
        let by_degree = Order {
            field: OrderField::Degree,
            descending: false,
        };
        assert_eq!(by_degree.place(&cursor), None);
        assert_eq!(by_degree.place("degree:many:x"), None);
        assert_eq!(Order::default().cursor(&SortKey::None, "x"), "x");
    }
}
