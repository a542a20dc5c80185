//! workfx pagination: `page_num` (from 1) and `page_size` (1 to the configured maximum) in the
//! query, and the window of results they select.

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
}
