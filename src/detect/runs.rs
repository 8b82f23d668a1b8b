//! Keywordless rules: maximal runs of a byte class, of the lengths rules want, found in one
//! pass (escape sequences such as `\\n` end a run where the escape starts).

/// Call `f(start, end)` for each maximal run of `class` bytes that is exactly `length` long,
/// or that becomes so once a leading escape sequence (`\n`, `\u0027`, `%3d`, …) is cut off.
///
/// Samples one byte in every `length`: any run that long contains a sampled byte, so most
/// text is skipped without being looked at.
pub fn for_each_run(hay: &[u8], class: &[bool; 256], length: usize, f: impl FnMut(usize, usize)) {
    for_each_run_of(hay, class, &[length], f)
}

/// [`for_each_run`] for several lengths (ascending) in one pass, sampling one byte in every
/// shortest length.
pub fn for_each_run_of(
    hay: &[u8],
    class: &[bool; 256],
    lengths: &[usize],
    f: impl FnMut(usize, usize),
) {
    for_each_run_in(hay, 0..hay.len(), class, lengths, f)
}

/// [`for_each_run_of`] for the runs inside `range`, which begins at the start of `hay` or at a
/// byte outside `class`, and ends at its end or at a byte outside `class` (so that no run
/// straddles either end).
pub(super) fn for_each_run_in(
    hay: &[u8],
    range: std::ops::Range<usize>,
    class: &[bool; 256],
    lengths: &[usize],
    mut f: impl FnMut(usize, usize),
) {
    let Some(&shortest) = lengths.first() else {
        return;
    };
    for_each_long_run(hay, range, class, shortest, |a, b| {
        if wanted(lengths, b - a) {
            f(a, b);
        }
        // Tried even when the whole run has a wanted length: `\n` before a 52-character token
        // makes a run of 53, which a rule accepting flags glued to a token also wants.
        if b - a > shortest
            && let Some(a2) = escape_end(hay, a, class)
            && wanted(lengths, b - a2)
        {
            f(a2, b);
        }
    });
}

/// Call `f(start, end)` for each maximal run of `class` bytes inside `range` (bounded as for
/// [`for_each_run_in`]) that is at least `shortest` long, sampling one byte in every
/// `shortest`: any run that long holds a sampled byte, so most text is skipped unread.
pub(super) fn for_each_long_run(
    hay: &[u8],
    range: std::ops::Range<usize>,
    class: &[bool; 256],
    shortest: usize,
    mut f: impl FnMut(usize, usize),
) {
    let n = range.end;
    if shortest == 0 || n < range.start.saturating_add(shortest) {
        return;
    }
    let mut i = range.start + shortest - 1;
    while i < n {
        if !class[hay[i] as usize] {
            i += shortest;
            continue;
        }
        let mut a = i;
        while a > 0 && class[hay[a - 1] as usize] {
            a -= 1;
        }
        let mut b = i + 1;
        while b < n && class[hay[b] as usize] {
            b += 1;
        }
        if b - a >= shortest {
            f(a, b);
        }
        i = b + shortest;
    }
}

/// Whether `n` is one of `lengths` (ascending): most runs are shorter than all of them.
pub(super) fn wanted(lengths: &[usize], n: usize) -> bool {
    n >= lengths[0] && n <= lengths[lengths.len() - 1] && lengths.binary_search(&n).is_ok()
}

/// If the run starting at `a` begins inside an escape sequence, where the escape ends.
pub(super) fn escape_end(hay: &[u8], a: usize, class: &[bool; 256]) -> Option<usize> {
    let lo = a.saturating_sub(5);
    let at = (lo..a).rev().find(|&j| hay[j] == b'\\' || hay[j] == b'%')?;
    let len = match (hay[at], hay.get(at + 1).copied()?) {
        (b'%', _) => 3,
        (b'\\', b'u') => 6,
        (b'\\', b'x') => 4,
        (b'\\', c) if class[c as usize] => 2,
        _ => return None,
    };
    let end = at + len;
    (end > a).then_some(end)
}
