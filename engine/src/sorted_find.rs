//! A leak's digests found in a sorted exposure run (`registry/runs._matching`): for each wanted digest,
//! where its rows start and how many there are, as `numpy.searchsorted` left and right give them.
//!
//! The wanted digests are sorted, so each search goes on from where the last one began,
//! galloping (1, 2, 4, ... rows ahead, then halving): ~5,500 wanted digests in a run of 500,000 rows are
//! ~100 rows apart, a few comparisons in a cache line or two, where a binary search from the whole
//! run's bounds misses the cache at most of its ~19 steps (a fifth of a match's main thread).

/// The first index from `from` on whose value (`value(i)`, `len` of them) is not `before(value)`
/// (`before` holds for a prefix of the values).
fn gallop(len: usize, value: &impl Fn(usize) -> i64, from: usize, before: impl Fn(i64) -> bool) -> usize {
    let (mut base, mut step) = (from, 1);
    while base + step <= len && before(value(base + step - 1)) {
        base += step;
        step *= 2;
    }
    let (mut lo, mut hi) = (base, (base + step).min(len));  // the answer is in lo..=hi
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(value(mid)) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// For each of `wanted` (sorted) among the sorted values `value(0..len)`: its left insertion point and
/// how many values equal it; None when `wanted` is not sorted.
pub fn find_sorted(len: usize, value: impl Fn(usize) -> i64, wanted: &[i64]) -> Option<(Vec<i64>, Vec<i64>)> {
    if wanted.windows(2).any(|w| w[0] > w[1]) {
        return None;
    }
    let (mut starts, mut counts) = (Vec::with_capacity(wanted.len()), Vec::with_capacity(wanted.len()));
    let mut at = 0;
    for &w in wanted {
        let start = gallop(len, &value, at, |v| v < w);
        let end = gallop(len, &value, start, |v| v <= w);
        starts.push(start as i64);
        counts.push((end - start) as i64);
        at = start;  // a wanted digest given twice is found twice
    }
    Some((starts, counts))
}

#[cfg(test)]
mod tests {
    use super::find_sorted;

    #[test]
    fn starts_and_counts_as_two_binary_searches_give_them() {
        let haystack = [1, 3, 3, 3, 7, 9, 9, 12];
        let wanted = [0, 1, 2, 3, 3, 9, 10, 12, 13];
        let (starts, counts) = find_sorted(haystack.len(), |i| haystack[i], &wanted).unwrap();
        for (k, &w) in wanted.iter().enumerate() {
            assert_eq!(starts[k], haystack.partition_point(|&v| v < w) as i64, "{w}");
            assert_eq!(counts[k], haystack.iter().filter(|&&v| v == w).count() as i64, "{w}");
        }
        assert_eq!(find_sorted(0, |_| unreachable!(), &[5]), Some((vec![0], vec![0])));
        assert_eq!(find_sorted(haystack.len(), |i| haystack[i], &[3, 1]), None);
    }
}
