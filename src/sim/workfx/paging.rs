//! workfx pagination: `page_num` (from 1) and `page_size` (1 to the configured maximum) in the
//! query, the window of results they select, and the answer that shows it (as documented, or
//! broken as an answer fault asks).

use serde::Serialize;

use crate::sim::ListShape;
use crate::sim::fastapi::{Query, Validator};

const DEFAULT_PAGE_SIZE: u32 = 20;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Page {
    pub num: u32,
    pub size: u32,
}

/// One page of a list, and what the client needs to know about the rest.
#[derive(Debug)]
pub(crate) struct Window<T> {
    pub items: Vec<T>,
    pub total_count: usize,
    pub total_pages: usize,
    pub has_next_page: bool,
}

impl Page {
    pub(crate) fn from_query(validator: &mut Validator, query: &Query, max_page_size: u32) -> Page {
        Page {
            num: validator.query_int(query, "page_num", 1, 1, None),
            size: validator.query_int(
                query,
                "page_size",
                DEFAULT_PAGE_SIZE.min(max_page_size),
                1,
                Some(max_page_size),
            ),
        }
    }

    /// A page past the end is empty, with the true totals.
    pub(crate) fn window<T>(self, all: Vec<T>) -> Window<T> {
        let size = self.size.max(1) as usize;
        let total_count = all.len();
        let total_pages = total_count.div_ceil(size);
        let skip = (self.num.max(1) as usize - 1).saturating_mul(size);
        let items = all.into_iter().skip(skip).take(size).collect();
        Window {
            items,
            total_count,
            total_pages,
            has_next_page: (self.num as usize) < total_pages,
        }
    }
}

/// A list answer: the paging fields as documented (`total_pages` only where documented), then
/// `data`. A field an answer fault leaves out is `None`, and not written.
#[derive(Debug, Serialize)]
pub(crate) struct ListAnswer<T> {
    #[serde(skip_serializing_if = "Option::is_none")]
    page_num: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    page_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_count: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_pages: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    has_next_page: Option<bool>,
    data: Vec<T>,
}

impl<T> ListAnswer<T> {
    /// The same answer with each item made into another form.
    pub(crate) fn map<U>(self, item: impl FnMut(T) -> U) -> ListAnswer<U> {
        ListAnswer {
            page_num: self.page_num,
            page_size: self.page_size,
            total_count: self.total_count,
            total_pages: self.total_pages,
            has_next_page: self.has_next_page,
            data: self.data.into_iter().map(item).collect(),
        }
    }
}

impl Page {
    /// The answer for this page of `all`, shaped as `shape` says; `total_pages` is written
    /// when `with_total_pages` (the agent list documents it, the version list does not).
    pub(crate) fn answer<T>(
        self,
        all: Vec<T>,
        shape: ListShape,
        with_total_pages: bool,
    ) -> ListAnswer<T> {
        let shown = match shape {
            ListShape::Repeats => Page { num: 1, ..self },
            _ => self,
        };
        let window = shown.window(all);
        let mut answer = ListAnswer {
            page_num: Some(self.num),
            page_size: Some(self.size),
            total_count: Some(window.total_count),
            total_pages: with_total_pages.then_some(window.total_pages as u64),
            has_next_page: Some(window.has_next_page),
            data: window.items,
        };
        match shape {
            ListShape::Documented => {}
            ListShape::NoPagingFields => {
                answer.page_num = None;
                answer.page_size = None;
                answer.total_count = None;
                answer.total_pages = None;
                answer.has_next_page = None;
            }
            ListShape::NoItems => answer.data.clear(),
            ListShape::EndsEarly => {
                answer.has_next_page = Some(false);
                answer.total_pages = answer.total_pages.map(|_| 1);
            }
            ListShape::Repeats => answer.has_next_page = Some(true),
            ListShape::HugeTotalPages if with_total_pages => {
                answer.total_pages = Some(ListShape::HUGE_TOTAL_PAGES);
                answer.has_next_page = Some(false);
            }
            ListShape::HugeTotalPages => {}
        }
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(num: u32, size: u32, len: usize) -> Window<usize> {
        Page { num, size }.window((0..len).collect())
    }

    #[test]
    fn an_empty_list_has_no_pages() {
        let w = window(1, 10, 0);
        assert_eq!(
            (w.items.len(), w.total_pages, w.has_next_page),
            (0, 0, false)
        );
    }

    #[test]
    fn an_exact_multiple_ends_on_a_full_page_without_a_next_one() {
        let w = window(2, 5, 10);
        assert_eq!(
            (w.items, w.total_pages, w.has_next_page),
            (vec![5, 6, 7, 8, 9], 2, false)
        );
        assert!(window(1, 5, 10).has_next_page);
    }

    #[test]
    fn the_last_page_may_be_partial_and_past_the_end_is_empty() {
        assert_eq!(window(3, 4, 10).items, vec![8, 9]);
        let past = window(9, 4, 10);
        assert_eq!(
            (past.items.len(), past.total_count, past.has_next_page),
            (0, 10, false)
        );
    }

    fn answer(num: u32, shape: ListShape) -> serde_json::Value {
        let page = Page { num, size: 2 };
        serde_json::to_value(page.answer((0..5).collect::<Vec<u32>>(), shape, true))
            .expect("an answer")
    }

    #[test]
    fn a_documented_answer_has_every_paging_field() {
        assert_eq!(
            answer(2, ListShape::Documented),
            serde_json::json!({"page_num": 2, "page_size": 2, "total_count": 5, "total_pages": 3, "has_next_page": true, "data": [2, 3]})
        );
    }

    #[test]
    fn each_broken_shape_breaks_one_thing() {
        assert_eq!(
            answer(2, ListShape::NoPagingFields),
            serde_json::json!({"data": [2, 3]})
        );
        assert_eq!(answer(1, ListShape::NoItems)["data"], serde_json::json!([]));
        let early = answer(1, ListShape::EndsEarly);
        assert_eq!(
            (&early["has_next_page"], &early["total_pages"]),
            (&serde_json::json!(false), &serde_json::json!(1))
        );
        let repeated = answer(3, ListShape::Repeats);
        assert_eq!(
            (&repeated["data"], &repeated["has_next_page"]),
            (&serde_json::json!([0, 1]), &serde_json::json!(true))
        );
        let huge = answer(1, ListShape::HugeTotalPages);
        assert_eq!(huge["total_pages"], ListShape::HUGE_TOTAL_PAGES);
        assert_eq!(huge["has_next_page"], false);
    }
}
