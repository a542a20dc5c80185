//! What agentsync relies on in workfx's paged answers (the agent list and an agent's version
//! list), checked: each page's fields against the first page's, and the pages read against
//! what the first one announced. Pure: the provider reads the pages, this says whether they
//! can be believed and how many there are to read (`docs/workfx-contract.md`, "Lists").
//!
//! A list is read as the first page announced it: its `total_pages` (the agent list) or its
//! `total_count` over the first page's size (the version list, which documents no
//! `total_pages`), at most [`MAX_PAGES`]. Agents created while the pages are read land after
//! them (the list is read oldest first) and are left to the next run; agents deleted
//! meanwhile shorten the last pages. So the items found must reach the smaller of the totals
//! the first and the last page announced; fewer means the pages held less than they said
//! (`{"total_count": 5, "data": []}`), and a list that cannot be believed is an error, never
//! an empty platform: an agent missed is an agent created twice.

/// The most pages of one list agentsync reads: 10,000 pages of 100 agents is a million agents.
/// A list announcing more is an error before its second page is asked for.
pub const MAX_PAGES: u64 = 10_000;

/// The paging fields of one answer, as the contract needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageInfo {
    pub total_count: u64,
    /// Documented for the agent list only.
    pub total_pages: Option<u64>,
    pub has_next_page: bool,
    /// How many items the page held.
    pub items: u64,
}

/// A list being read: what its first page announced, and what the pages since showed.
#[derive(Debug, Clone)]
pub struct Walk {
    page_size: u64,
    first_total: u64,
    last_total: u64,
    first_items: u64,
    pages: u64,
    /// The first page that held fewer items than the first page: every page after it must be
    /// empty.
    short_page: Option<u64>,
}

impl Walk {
    /// Checks the first page of a list read `page_size` items a page, and learns from it how
    /// many pages there are. The error is the problem, in words.
    pub fn start(first: &PageInfo, page_size: u32) -> Result<Walk, String> {
        let page_size = u64::from(page_size);
        check_page(first, page_size)?;
        let total = first.total_count;
        let pages = match first.total_pages {
            Some(pages) => announced_pages(first, pages, page_size)?,
            None => counted_pages(first)?,
        };
        if pages > MAX_PAGES {
            return Err(format!(
                "it announces {pages} pages, more than the {MAX_PAGES} agentsync reads of one list"
            ));
        }
        if pages > 1 && !first.has_next_page {
            return Err(format!(
                "its first page of {pages} says that no page follows it"
            ));
        }
        if pages > 1 && first.items == 0 {
            return Err(format!(
                "its first page is empty, though it announces {total} items on {pages} pages"
            ));
        }
        Ok(Walk {
            page_size,
            first_total: total,
            last_total: total,
            first_items: first.items,
            pages,
            short_page: None,
        })
    }

    /// How many pages to read, the first included.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// Checks page `page_num` (2 or more), read after those before it.
    pub fn next(&mut self, page_num: u64, page: &PageInfo) -> Result<(), String> {
        check_page(page, self.page_size)?;
        if let Some(pages) = page.total_pages
            && page_num < pages
            && !page.has_next_page
        {
            return Err(format!(
                "page {page_num} of {pages} says that no page follows it"
            ));
        }
        match self.short_page {
            Some(short) if page.items > 0 => {
                return Err(format!(
                    "page {page_num} holds {} items, though page {short} before it was not full",
                    page.items
                ));
            }
            None if page.items < self.first_items => self.short_page = Some(page_num),
            _ => {}
        }
        self.last_total = page.total_count;
        Ok(())
    }

    /// Checks that the pages held what they announced: `found` different items in all.
    pub fn finish(&self, found: u64) -> Result<(), String> {
        // Creations while reading raise the last total, deletions lower it; the smaller of the
        // two is what the pages must at least have held.
        let expected = self.first_total.min(self.last_total);
        if found < expected {
            return Err(format!(
                "it announces {expected} items in all, but its pages held {found}"
            ));
        }
        Ok(())
    }
}

/// Checks a first page read for itself (an agent's newest flows): as any page, and holding its
/// total when it says that no page follows.
pub fn check_first_page(first: &PageInfo, page_size: u32) -> Result<(), String> {
    check_page(first, u64::from(page_size))?;
    if !first.has_next_page && first.items < first.total_count {
        return Err(format!(
            "it announces {} items in all, but its pages held {}",
            first.total_count, first.items
        ));
    }
    Ok(())
}

/// What any one page must be: no more items than asked for, nor than its own total.
fn check_page(page: &PageInfo, page_size: u64) -> Result<(), String> {
    if page.items > page_size {
        return Err(format!(
            "a page of {} items, though {page_size} were asked for",
            page.items
        ));
    }
    if page.items > page.total_count {
        return Err(format!(
            "a page of {} items, though it announces {} in all",
            page.items, page.total_count
        ));
    }
    Ok(())
}

/// The `total_pages` of a first page, checked against its `total_count`: every page but the
/// last is full, none holds more than `page_size`, and a list of nothing has at most one page.
fn announced_pages(first: &PageInfo, pages: u64, page_size: u64) -> Result<u64, String> {
    let total = first.total_count;
    let fewest = total.div_ceil(page_size);
    let most = total.max(1);
    if pages < fewest || pages > most {
        return Err(format!(
            "it announces {total} items on {pages} pages of at most {page_size}"
        ));
    }
    Ok(pages.max(1))
}

/// The pages of a list that does not say (the version list): its total over the size of the
/// first page, the size the platform uses.
fn counted_pages(first: &PageInfo) -> Result<u64, String> {
    match (first.total_count, first.items) {
        (0, _) => Ok(1),
        (total, 0) => Err(format!(
            "its first page is empty, though it announces {total} items"
        )),
        (total, items) => Ok(total.div_ceil(items)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(
        total_count: u64,
        total_pages: Option<u64>,
        has_next_page: bool,
        items: u64,
    ) -> PageInfo {
        PageInfo {
            total_count,
            total_pages,
            has_next_page,
            items,
        }
    }

    #[test]
    fn a_documented_list_is_read_as_announced() {
        let mut walk = Walk::start(&page(230, Some(3), true, 100), 100).expect("believed");
        assert_eq!(walk.pages(), 3);
        walk.next(2, &page(230, Some(3), true, 100))
            .expect("believed");
        walk.next(3, &page(230, Some(3), false, 30))
            .expect("believed");
        walk.finish(230).expect("complete");
        let empty = Walk::start(&page(0, Some(0), false, 0), 100).expect("believed");
        assert_eq!(empty.pages(), 1);
        empty.finish(0).expect("complete");
    }

    #[test]
    fn a_total_without_items_is_not_an_empty_platform() {
        let walk = Walk::start(&page(5, Some(1), false, 0), 100).expect("one page");
        let problem = walk.finish(0).expect_err("five agents were announced");
        assert_eq!(problem, "it announces 5 items in all, but its pages held 0");
    }

    #[test]
    fn impossible_page_counts_are_refused_before_any_other_page_is_read() {
        for (total, pages) in [(5, 1_000_000_000), (0, 3), (230, 2), (5, 0)] {
            let problem = Walk::start(&page(total, Some(pages), false, total.min(100)), 100)
                .expect_err("impossible");
            assert!(problem.contains("items on"), "{problem}");
        }
        let problem = Walk::start(&page(MAX_PAGES * 200, Some(MAX_PAGES * 2), true, 100), 100)
            .expect_err("too many");
        assert!(problem.contains("more than the 10000"), "{problem}");
    }

    #[test]
    fn a_first_page_that_contradicts_its_own_count_is_refused() {
        assert!(Walk::start(&page(300, Some(3), false, 100), 100).is_err());
        assert!(Walk::start(&page(300, Some(3), true, 0), 100).is_err());
        assert!(Walk::start(&page(3, Some(1), false, 101), 100).is_err());
        assert!(Walk::start(&page(3, Some(1), false, 4), 100).is_err());
    }

    #[test]
    fn a_last_page_that_says_more_follow_is_believed_for_its_count_alone() {
        // The vendor's own example: one agent on page 1 of 1, `has_next_page: true`.
        let walk = Walk::start(&page(1, Some(1), true, 1), 1).expect("believed");
        assert_eq!(walk.pages(), 1);
        walk.finish(1).expect("complete");
    }

    #[test]
    fn a_page_after_a_short_one_must_be_empty() {
        let mut walk = Walk::start(&page(300, Some(3), true, 100), 100).expect("believed");
        walk.next(2, &page(300, Some(3), true, 40))
            .expect("the list may shrink");
        let problem = walk
            .next(3, &page(300, Some(3), false, 100))
            .expect_err("a page after a short one");
        assert!(
            problem.contains("page 2 before it was not full"),
            "{problem}"
        );
    }

    #[test]
    fn pages_shortened_by_deletions_and_lengthened_by_creations_are_believed() {
        let mut walk = Walk::start(&page(200, Some(2), true, 100), 100).expect("believed");
        walk.next(2, &page(199, Some(2), false, 99))
            .expect("one deleted");
        walk.finish(199).expect("complete for what is left");
        let mut walk = Walk::start(&page(200, Some(2), true, 100), 100).expect("believed");
        walk.next(2, &page(201, Some(3), true, 100))
            .expect("one created");
        walk.finish(200).expect("complete for what was announced");
    }

    #[test]
    fn a_list_without_total_pages_is_counted_from_its_first_page() {
        let walk = Walk::start(&page(5, None, true, 2), 2).expect("believed");
        assert_eq!(walk.pages(), 3);
        assert!(
            Walk::start(&page(5, None, false, 2), 2).is_err(),
            "5 announced, 2 held, no next page"
        );
    }

    #[test]
    fn a_first_page_read_alone_must_hold_its_total_when_it_says_it_is_the_last() {
        check_first_page(&page(5, None, true, 2), 2).expect("more follow");
        check_first_page(&page(2, None, false, 2), 2).expect("all there");
        // Read alone, its total does not matter: no other page is read.
        check_first_page(&page(5_000_000, None, true, 2), 2).expect("more follow");
        let problem = check_first_page(&page(5, None, false, 2), 2).expect_err("3 missing");
        assert_eq!(problem, "it announces 5 items in all, but its pages held 2");
        assert!(check_first_page(&page(5, None, true, 3), 2).is_err());
    }
}
