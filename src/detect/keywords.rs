//! The keyword pass: the literal search for every rule's keywords, and each hit's rules run
//! over a window around it (or, where one rule's hits crowd a line, over the line once).

use super::*;

/// What the keyword pass remembers of one rule while it reads one text.
#[derive(Clone, Copy, Default)]
pub(super) struct RuleMemo {
    /// The last window its regex found nothing in. Text dense with a keyword (`JQQJ9` a
    /// million times, shared by eight rules) would otherwise be searched again for every hit.
    clear: Option<(usize, usize)>,
    /// Searches in vain in a row, each overlapping the one before.
    in_vain: u32,
    /// The end of the text a dense-mode segment has already covered.
    covered: usize,
}

/// Every keyword hit in `hay`, one per position a keyword starts at: the search resumes one
/// byte after each hit's start, not at its end, so a keyword inside or overlapping another's
/// hit (`TOKEN` in `AZURE_DEVOPS_TOKEN`, a custom rule's keyword in a built-in one's) is still
/// seen and its rules still run. Keywords starting at one position give one hit, the
/// first-listed one; the rules of both are merged when the rule set is compiled.
fn keyword_hits<'h>(
    ac: &'h AhoCorasick,
    hay: &'h [u8],
) -> impl Iterator<Item = aho_corasick::Match> + 'h {
    let mut from = 0;
    std::iter::from_fn(move || {
        let hit = ac.find(aho_corasick::Input::new(hay).range(from..))?;
        from = hit.start() + 1;
        Some(hit)
    })
}

impl Matcher {
    /// The keyword pass: each hit's rules over a window around it. Every so often (see
    /// [`Pending`]) the matches below the last hit's reach are handed on ([`Matcher::advance`]):
    /// no later hit finds one starting more than `lookbehind` before itself.
    pub(super) fn search(
        &self,
        hay: &[u8],
        decode: bool,
        p: &mut Pending,
        flush: &mut dyn FnMut(&mut Pending, usize),
    ) {
        let Some(ac) = &self.keywords else {
            return;
        };
        let mut memo: Vec<RuleMemo> = Vec::new();
        for hit in keyword_hits(ac, hay) {
            // Made on the first hit: most texts (file names, most files) have none.
            if memo.is_empty() {
                memo = vec![RuleMemo::default(); self.rules.len()];
            }
            for &ri in &self.keyword_rules[hit.pattern().as_usize()] {
                if self.rules[ri].rule.decoder.is_some() && !decode {
                    continue;
                }
                let at = hit.start()..hit.end();
                self.search_window(ri, ac, hay, at, &mut memo[ri], &mut p.out);
            }
            let known = hit.start().saturating_sub(self.lookbehind);
            if p.out.len() >= p.batch || known >= p.runs_done.saturating_add(p.step) {
                self.advance(hay, known, p, flush);
            }
        }
    }

    /// Rule `ri`'s regex over the window around one keyword hit (`hit`, a range of `hay`).
    fn search_window(
        &self,
        ri: usize,
        ac: &AhoCorasick,
        hay: &[u8],
        hit: std::ops::Range<usize>,
        memo: &mut RuleMemo,
        out: &mut Vec<Match>,
    ) {
        let cr = &self.rules[ri];
        let pat = cr.pattern();
        // A match holding this hit starts at most `max_prefix` before it and ends within
        // `max_len` of that; strictly inside a window already searched in vain (look-arounds
        // saw the same bytes), there is none.
        let from = hit
            .start
            .saturating_sub(cr.rule.max_prefix.unwrap_or(LOOKBEHIND));
        if let (Some(max), Some((clear_from, clear_to))) = (pat.max_len, memo.clear)
            && from >= clear_from
            && hit.start + max < clear_to
        {
            return;
        }
        if hit.start < memo.covered {
            return;
        }
        // Secrets do not span lines: the window ends at the line's end. Searching `hay[..end]`
        // from `from` (not a sub-slice) keeps the text before it visible to `\b` and `^`.
        let far = (hit.end + LOOKAHEAD.max(pat.max_len.unwrap_or(0))).min(hay.len());
        let end = memchr::memchr(b'\n', &hay[hit.end..far]).map_or(far, |i| hit.end + i);
        if memo.in_vain >= DENSE_AFTER {
            memo.covered = self.dense_segment(ri, ac, hay, from, out);
            memo.in_vain = 0;
            memo.clear = None;
            return;
        }
        let overlaps = memo.clear.is_some_and(|(_, clear_to)| from < clear_to);
        memo.in_vain = if overlaps { memo.in_vain + 1 } else { 1 };
        memo.clear = Some((from, end));
        let span = &hay[from..end];
        if !pat
            .required
            .iter()
            .all(|&b| memchr::memchr(b, span).is_some())
        {
            return;
        }
        let window = &hay[..end];
        let mut at = from;
        while let Some(caps) = pat.regex.captures_at(window, at) {
            memo.clear = None;
            memo.in_vain = 0;
            let whole = caps.get(0).expect("group 0");
            if whole.start() > hit.start {
                break;
            }
            at = whole.end().max(whole.start() + 1);
            if whole.end() < hit.end {
                continue;
            }
            let sec = pat.secret_group.and_then(|g| caps.get(g)).unwrap_or(whole);
            let local = caps
                .name("host")
                .is_some_and(|h| placeholder::is_example_host(h.as_bytes()));
            self.candidate(ri, hay, sec.start(), sec.end(), local, out);
        }
    }

    /// Dense mode of rule `ri` from `from`: one pass of its regex over the rest of the line
    /// (at most [`DENSE_SEGMENT`] bytes), keeping matches that hold one of its keywords within
    /// `max_prefix` of their start, as a window per hit would. Returns the offset below which
    /// every hit has been dealt with.
    fn dense_segment(
        &self,
        ri: usize,
        ac: &AhoCorasick,
        hay: &[u8],
        from: usize,
        out: &mut Vec<Match>,
    ) -> usize {
        let cr = &self.rules[ri];
        let pat = cr.pattern();
        let cap = (from + DENSE_SEGMENT).min(hay.len());
        let line_end = memchr::memchr(b'\n', &hay[from..cap]).map(|i| from + i);
        let end = line_end.unwrap_or(cap);
        let prefix = cr.rule.max_prefix.unwrap_or(LOOKBEHIND);
        let window = &hay[..end];
        let mut at = from;
        while let Some(caps) = pat.regex.captures_at(window, at) {
            let whole = caps.get(0).expect("group 0");
            let span = &hay[whole.start()..whole.end()];
            let holds_keyword = keyword_hits(ac, span).any(|h| {
                h.start() <= prefix && self.keyword_rules[h.pattern().as_usize()].contains(&ri)
            });
            if !holds_keyword {
                // No hit of this rule would have found it; a match starting inside it might.
                at = whole.start() + 1;
                continue;
            }
            at = whole.end().max(whole.start() + 1);
            let sec = pat.secret_group.and_then(|g| caps.get(g)).unwrap_or(whole);
            let local = caps
                .name("host")
                .is_some_and(|h| placeholder::is_example_host(h.as_bytes()));
            self.candidate(ri, hay, sec.start(), sec.end(), local, out);
        }
        match line_end {
            Some(e) => e,
            // Cut short: a hit near the cut may belong to a match that runs past it.
            None if end == hay.len() => end,
            None => end.saturating_sub(LOOKAHEAD).max(from + 1),
        }
    }
}
