//! The list's pages (contract item 5): the window that `page` and `limit` select, and the
//! answer that shows it, as documented or broken as the list's answer fault asks.

use serde_json::{Value, json};

use crate::sim::ListShape;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Page {
    /// From 1.
    pub num: u32,
    /// From 1.
    pub limit: u32,
}

impl Page {
    /// The answer for this page of `all`: `{"success", "data", "pagination": {"page", "total",
    /// "hasNext"}}`. A page past the end is empty, with the true total.
    ///
    /// Broken as `shape` says: [`ListShape::NoPagingFields`] leaves out `pagination`;
    /// [`ListShape::NoItems`] answers no items; [`ListShape::EndsEarly`] says `hasNext: false`
    /// on every page; [`ListShape::Repeats`] answers the first page's items on every page with
    /// `hasNext: true`; [`ListShape::HugeTotalPages`] answers as documented (there is no page
    /// count here to make huge).
    pub(crate) fn answer(self, all: Vec<Value>, shape: ListShape) -> Value {
        let limit = self.limit.max(1) as usize;
        let total = all.len();
        let shown = match shape {
            ListShape::Repeats => 1,
            _ => self.num.max(1) as usize,
        };
        let skip = (shown - 1).saturating_mul(limit);
        let mut items: Vec<Value> = all.into_iter().skip(skip).take(limit).collect();
        let mut has_next = (self.num.max(1) as usize).saturating_mul(limit) < total;
        match shape {
            ListShape::Documented | ListShape::HugeTotalPages => {}
            ListShape::NoPagingFields => return json!({ "success": true, "data": items }),
            ListShape::NoItems => items.clear(),
            ListShape::EndsEarly => has_next = false,
            ListShape::Repeats => has_next = true,
        }
        json!({
            "success": true,
            "data": items,
            "pagination": { "page": self.num, "total": total, "hasNext": has_next },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(num: u32, limit: u32, len: u64, shape: ListShape) -> Value {
        Page { num, limit }.answer((0..len).map(Value::from).collect(), shape)
    }

    #[test]
    fn a_page_shows_its_window_the_total_and_whether_another_follows() {
        assert_eq!(
            answer(2, 2, 5, ListShape::Documented),
            json!({ "success": true, "data": [2, 3], "pagination": { "page": 2, "total": 5, "hasNext": true } })
        );
        let last = answer(3, 2, 5, ListShape::Documented);
        assert_eq!(
            (&last["data"], &last["pagination"]["hasNext"]),
            (&json!([4]), &json!(false))
        );
        let exact = answer(2, 2, 4, ListShape::Documented);
        assert_eq!(
            exact["pagination"]["hasNext"], false,
            "an exact multiple ends on a full page"
        );
        let past = answer(9, 2, 4, ListShape::Documented);
        assert_eq!(
            (&past["data"], &past["pagination"]["total"]),
            (&json!([]), &json!(4))
        );
        let empty = answer(1, 20, 0, ListShape::Documented);
        assert_eq!(
            empty["pagination"],
            json!({ "page": 1, "total": 0, "hasNext": false })
        );
    }

    #[test]
    fn each_broken_shape_breaks_one_thing() {
        assert_eq!(
            answer(2, 2, 5, ListShape::NoPagingFields),
            json!({ "success": true, "data": [2, 3] })
        );
        let no_items = answer(1, 2, 5, ListShape::NoItems);
        assert_eq!(
            (&no_items["data"], &no_items["pagination"]["total"]),
            (&json!([]), &json!(5))
        );
        assert_eq!(
            answer(1, 2, 5, ListShape::EndsEarly)["pagination"]["hasNext"],
            false
        );
        let repeated = answer(3, 2, 5, ListShape::Repeats);
        assert_eq!(
            (&repeated["data"], &repeated["pagination"]),
            (
                &json!([0, 1]),
                &json!({ "page": 3, "total": 5, "hasNext": true })
            )
        );
        assert_eq!(
            answer(1, 2, 5, ListShape::HugeTotalPages),
            answer(1, 2, 5, ListShape::Documented)
        );
    }
}
