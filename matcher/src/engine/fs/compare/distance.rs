//! The optimal-string-alignment distance of two short strings, bounded: most callers ask
//! only whether two codes or names are within one or two edits, so the distance is
//! computed on a band of the table, after a bound from character counts.

/// Optimal-string-alignment distance (`strsim::osa_distance`), on bytes without
/// allocating for ASCII strings of at most 32 bytes (codes: dates, postcodes, ids).
pub fn osa_distance(a: &str, b: &str) -> usize {
    osa_distance_at_most(a, b, usize::MAX)
}

/// `min(osa_distance(a, b), k + 1)`: for ASCII strings of at most 32 bytes only the
/// diagonal band of width `k` is computed (an alignment of cost at most `k` never leaves it),
/// after a lower bound from character counts has had its chance to answer `k + 1` at once.
pub fn osa_distance_at_most(a: &str, b: &str, k: usize) -> usize {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let cap = k.saturating_add(1);
    if x.len() > 32 || y.len() > 32 || !a.is_ascii() || !b.is_ascii() {
        return strsim::osa_distance(a, b).min(cap);
    }
    let (n, m) = (x.len(), y.len());
    if n.abs_diff(m) > k {
        return cap;
    }
    if n == 0 || m == 0 {
        return n.max(m).min(cap);
    }
    if count_lower_bound(x, y) > k {
        return cap;
    }
    // three rows of the band, rotated by index (no copies); costs fit a byte (≤ 33)
    let inf = cap.min(64) as u8;
    let mut rows = [[inf; 33]; 3];
    for (j, p) in rows[1].iter_mut().enumerate().take(m.min(k) + 1) {
        *p = j as u8;
    }
    let (mut back2, mut back1, mut cur_i) = (0usize, 1usize, 2usize);
    for i in 1..=n {
        let lo = i.saturating_sub(k).max(1);
        let hi = i.saturating_add(k).min(m);
        {
            let cur = &mut rows[cur_i];
            cur.fill(inf);
            if i <= k {
                cur[0] = i as u8;
            }
        }
        for j in lo..=hi {
            let cost = u8::from(x[i - 1] != y[j - 1]);
            let (prev, cur_jm1) = (&rows[back1], rows[cur_i][j - 1]);
            let mut v = (prev[j] + 1).min(cur_jm1 + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1] {
                v = v.min(rows[back2][j - 2] + 1);
            }
            rows[cur_i][j] = v.min(inf);
        }
        (back2, back1, cur_i) = (back1, cur_i, back2);
    }
    usize::from(rows[back1][m]).min(cap)
}

/// A lower bound of the OSA distance of two strings of at most 32 bytes: a substitution
/// changes two character counts by one, an insertion or deletion one, a transposition
/// none, so the distance is at least half the L1 distance of the count vectors. Counting
/// bytes modulo 32 merges some characters, which can only lower the L1 distance: still a
/// bound, in 32 bytes of stack.
fn count_lower_bound(x: &[u8], y: &[u8]) -> usize {
    let mut c = [0i8; 32];
    for &v in x {
        c[usize::from(v & 31)] += 1;
    }
    for &v in y {
        c[usize::from(v & 31)] -= 1;
    }
    let l1: usize = c.iter().map(|v| usize::from(v.unsigned_abs())).sum();
    l1.div_ceil(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osa_distance_equals_strsim() {
        let w = [
            "", "1", "12", "21", "1234", "1243", "2134", "19640804", "19640408", "08041964",
            "5637", "5673", "abcdef", "acbdfe", "ca", "abc",
        ];
        for a in w {
            for b in w {
                assert_eq!(osa_distance(a, b), strsim::osa_distance(a, b), "{a} / {b}");
            }
        }
    }
}
