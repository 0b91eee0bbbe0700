//! Matrix products with gemm's bits that skip the zero terms of the left operand.
//!
//! Behind a ReLU most of the gradients at a layer's outputs are zero: in the trained CartPole
//! Q-networks of `cartpole_dqn.toml`, 73% of the second hidden layer's outputs are zero, and
//! 70% of its units are zero for a whole batch of 64. gemm multiplies them all. This kernel
//! computes each output as gemm does on an x86-64 CPU with FMA — for `k ≤ 512` one fused
//! multiply-add chain per output, started from `+0` and run over the inner index in order —
//! but leaves out the terms whose left-hand factor is zero, and the rows of the right operand
//! that no term reads.
//!
//! Leaving them out changes no bit while the right operand is finite: such a term adds `±0`
//! to the running sum, which leaves a nonzero sum as it is, and the sum is never `−0` (it
//! starts at `+0`, `+0 + −0` is `+0`, and an exact cancellation rounds to `+0`). With an
//! infinite or NaN right-hand value the product would be NaN; the networks never get there,
//! since a non-finite loss stops training before the step that would make the weights so.

/// Whether [`product`] reproduces gemm's result for an `m × n` product with inner dimension
/// `k` on this CPU: gemm runs its FMA microkernels (AVX2 and FMA present), over one block of
/// the inner dimension (`k ≤ 512`), and none of its special paths — outer products (`k ≤ 2`),
/// matrix-vector products (`m` or `n` of 1) and the small-output kernels (`m·n ≤ 256`), which
/// sum in other orders.
pub(super) fn matches_gemm(m: usize, n: usize, k: usize) -> bool {
    (3..=512).contains(&k) && m > 1 && n > 1 && m * n > 256 && avx::available()
}

/// A row-major matrix `M` (`rows × cols`) as the left operand of a product: `M` itself, or
/// `Mᵀ`.
#[derive(Clone, Copy, Debug)]
pub(super) enum Lhs<'a> {
    /// The operand is `M`: `m = rows`, `k = cols`.
    Plain(&'a [f32], usize, usize),
    /// The operand is `Mᵀ`: `m = cols`, `k = rows`.
    Transposed(&'a [f32], usize, usize),
}

impl Lhs<'_> {
    /// `(m, k)`: the operand's rows and columns.
    pub(super) fn shape(&self) -> (usize, usize) {
        match *self {
            Lhs::Plain(_, r, c) => (r, c),
            Lhs::Transposed(_, r, c) => (c, r),
        }
    }
}

/// Columns of the output a block of the kernel computes: two AVX registers.
const WIDTH: usize = 16;

/// Output rows whose terms stay in the L1 cache while the kernel runs them against every
/// column block of the right operand.
const ROW_CHUNK: usize = 8;

/// `lhs (m × k) · rhs (k × n, row-major)` as a new row-major `m × n` buffer, or `None` where
/// more than `max_density` of the left operand's values are nonzero (gemm is faster there).
/// Output `(i, j)` is the FMA chain `Σ_p lhs[i, p]·rhs[p, j]` over the `p` with
/// `lhs[i, p] ≠ 0`, in order, from `+0`.
///
/// # Panics
/// When the slices do not hold the shapes, or on a CPU without AVX2 and FMA (see
/// [`matches_gemm`]).
pub(super) fn product(lhs: Lhs<'_>, rhs: &[f32], n: usize, max_density: f64) -> Option<Vec<f32>> {
    assert!(avx::available(), "the chain product needs AVX2 and FMA");
    SCRATCH.with_borrow_mut(|scratch| product_in(scratch, lhs, rhs, n, max_density))
}

thread_local! {
    /// Buffers a thread's products reuse.
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// Buffers of [`product`], grown as needed and kept between calls.
#[derive(Default)]
struct Scratch {
    transposed: Vec<f32>,
    terms: Terms,
    packed: Vec<f32>,
}

fn product_in(
    scratch: &mut Scratch,
    lhs: Lhs<'_>,
    rhs: &[f32],
    n: usize,
    max_density: f64,
) -> Option<Vec<f32>> {
    let (m, k) = lhs.shape();
    let a = match lhs {
        Lhs::Plain(v, r, c) => {
            assert_eq!(v.len(), r * c, "left operand's shape");
            v
        }
        Lhs::Transposed(v, r, c) => {
            assert_eq!(v.len(), r * c, "left operand's shape");
            transpose(v, r, c, &mut scratch.transposed);
            &scratch.transposed[..]
        }
    };
    assert_eq!(rhs.len(), k * n, "right operand's shape");
    if n == 0 || k == 0 {
        return Some(vec![0.0; m * n]);
    }
    let terms = &mut scratch.terms;
    terms.fill(a, m, k);
    let nonzero: usize = terms.count.iter().sum();
    if nonzero as f64 > max_density * (m * k) as f64 {
        return None;
    }
    let groups = terms.group();
    let packed = Packed::fill(&mut scratch.packed, rhs, &terms.read, k, n);
    let mut out: Vec<f32> = Vec::with_capacity(m * n);
    let dst = out.as_mut_ptr();
    for chunk in groups.chunks(ROW_CHUNK / avx::ROWS) {
        for b in 0..n.div_ceil(WIDTH) {
            let block = packed.block(b);
            let j = b * WIDTH;
            let cols = WIDTH.min(n - j);
            for &(rows, len) in chunk {
                // A group's first row has len terms of its own: it stands in for padding.
                let t = rows.map(|i| terms.row(if i < m { i } else { rows[0] }, len));
                // SAFETY: the CPU has AVX2 and FMA (asserted by the caller); every offset is
                // p·WIDTH for a p < k whose row is packed, WIDTH before the end of the k·WIDTH
                // block at most; each row has len terms (padded).
                let sums = unsafe { avx::block(t, len, block) };
                for (&i, sum) in rows.iter().zip(&sums) {
                    if i < m {
                        // SAFETY: row i's columns j .. j + cols are within the m·n capacity.
                        unsafe {
                            std::ptr::copy_nonoverlapping(sum.as_ptr(), dst.add(i * n + j), cols)
                        };
                    }
                }
            }
        }
    }
    for i in (0..m).filter(|&i| terms.count[i] == 0) {
        // SAFETY: row i is within the m·n capacity.
        unsafe { std::ptr::write_bytes(dst.add(i * n), 0, n) };
    }
    // SAFETY: every row was written: those with terms block by block over all n columns,
    // the others zeroed just above.
    unsafe { out.set_len(m * n) };
    Some(out)
}

/// `M` (`rows × cols`, row-major) transposed into `t`: 8 × 8 tiles in registers, the
/// edges one value at a time.
fn transpose(v: &[f32], rows: usize, cols: usize, t: &mut Vec<f32>) {
    t.clear();
    t.resize(rows * cols, 0.0);
    let (r8, c8) = (rows / 8 * 8, cols / 8 * 8);
    for p in (0..r8).step_by(8) {
        for i in (0..c8).step_by(8) {
            // SAFETY: the CPU has AVX2 (asserted by `product`); the tile's rows p .. p + 8
            // and columns i .. i + 8 are within M, and within t transposed.
            unsafe { avx::transpose8(v, cols, p, i, t, rows) };
        }
    }
    // The edges: the last columns of the whole tiles' rows, then the last rows.
    let edge = (0..r8).flat_map(|p| (c8..cols).map(move |i| (p, i)));
    for (p, i) in edge.chain((r8..rows).flat_map(|p| (0..cols).map(move |i| (p, i)))) {
        t[i * rows + p] = v[p * cols + i];
    }
}

/// The nonzero values of each row of a left operand `m × k`, in order of their column, each
/// with its column as an offset into a packed block (`p·WIDTH`): row `i`'s `count[i]` terms
/// start at `i·stride` in `offset` and `value`. A row has room for `k` terms and a register's
/// worth more, for padding and for the kernel's whole-register stores. `read[p]`: some row
/// has a term in column `p`.
#[derive(Default)]
struct Terms {
    stride: usize,
    count: Vec<usize>,
    offset: Vec<u32>,
    value: Vec<f32>,
    read: Vec<bool>,
}

impl Terms {
    fn fill(&mut self, a: &[f32], m: usize, k: usize) {
        self.stride = k + 8;
        self.count.clear();
        self.count.resize(m, 0);
        self.read.clear();
        self.read.resize(k.div_ceil(8) * 8, false);
        if self.offset.len() < m * self.stride {
            self.offset.resize(m * self.stride, 0);
            self.value.resize(m * self.stride, 0.0);
        }
        let mut read = vec![0u8; k.div_ceil(8)];
        for (i, row) in a.chunks_exact(k).enumerate() {
            let s = i * self.stride;
            // SAFETY: the CPU has AVX2 and FMA (asserted by `product`); row i's places hold
            // k + 8 terms, and `read` a bit for each column.
            self.count[i] = unsafe {
                avx::compress(
                    row,
                    &mut self.offset[s..s + self.stride],
                    &mut self.value[s..s + self.stride],
                    &mut read,
                )
            };
        }
        for (p, r) in self.read.iter_mut().enumerate() {
            *r = read[p / 8] & (1 << (p % 8)) != 0;
        }
        self.read.truncate(k);
    }

    /// The rows with terms in groups of [`avx::ROWS`], rows of about as many terms together,
    /// each group with its longest row's length; rows past `m` pad the last group. Each
    /// row's terms are padded with zero terms to its group's length: `+0·x` changes no sum.
    fn group(&mut self) -> Vec<([usize; avx::ROWS], usize)> {
        let m = self.count.len();
        let mut order: Vec<usize> = (0..m).filter(|&i| self.count[i] > 0).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(self.count[i]));
        let mut groups = Vec::new();
        for chunk in order.chunks(avx::ROWS) {
            let len = self.count[chunk[0]];
            for &i in chunk {
                let s = i * self.stride;
                // Offset 0 reads the first packed row, which is a term's (a row with terms
                // has read one), so the padding reads initialised values.
                let first = self.offset[s];
                self.offset[s + self.count[i]..s + len].fill(first);
                self.value[s + self.count[i]..s + len].fill(0.0);
            }
            groups.push((
                std::array::from_fn(|r| chunk.get(r).copied().unwrap_or(m)),
                len,
            ));
        }
        groups
    }

    /// Row `i`'s first `len` terms (padded).
    fn row(&self, i: usize, len: usize) -> (&[u32], &[f32]) {
        let s = i * self.stride;
        (&self.offset[s..s + len], &self.value[s..s + len])
    }
}

/// The right operand (`k × n`) cut into column blocks of [`WIDTH`]: block `b` holds row
/// `p`'s columns `b·WIDTH ..` (zero past `n`) at `p·WIDTH`, from a cache line's start. Only
/// the rows some term reads are written.
struct Packed<'a> {
    values: &'a [f32],
    first: usize,
    block_len: usize,
}

impl<'a> Packed<'a> {
    fn fill(buf: &'a mut Vec<f32>, rhs: &[f32], read: &[bool], k: usize, n: usize) -> Packed<'a> {
        let block_len = k * WIDTH;
        let blocks = n.div_ceil(WIDTH);
        // One cache line of slack to start the blocks on a line: a row's WIDTH values are
        // then one line, which its two loads read without crossing into the next.
        const LINE: usize = 64 / std::mem::size_of::<f32>();
        if buf.len() < blocks * block_len + LINE {
            buf.resize(blocks * block_len + LINE, 0.0);
        }
        let first = buf.as_ptr().align_offset(64).min(LINE);
        for b in 0..blocks {
            let j = b * WIDTH;
            let cols = WIDTH.min(n - j);
            let start = first + b * block_len;
            let block = &mut buf[start..start + block_len];
            for ((dst, src), _) in block
                .chunks_exact_mut(WIDTH)
                .zip(rhs.chunks_exact(n))
                .zip(read)
                .filter(|(_, r)| **r)
            {
                dst[..cols].copy_from_slice(&src[j..j + cols]);
                dst[cols..].fill(0.0);
            }
        }
        Packed {
            values: buf,
            first,
            block_len,
        }
    }

    /// Block `b`.
    fn block(&self, b: usize) -> &[f32] {
        let s = self.first + b * self.block_len;
        &self.values[s..s + self.block_len]
    }
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::*;

    use super::WIDTH;

    /// Whether the CPU has AVX2 and FMA.
    pub fn available() -> bool {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }

    /// For each mask of eight lanes, the permutation that moves its set lanes to the front
    /// in order.
    const COMPRESS: [[u32; 8]; 256] = {
        let mut table = [[0u32; 8]; 256];
        let mut mask = 0;
        while mask < 256 {
            let (mut lane, mut next) = (0, 0);
            while lane < 8 {
                if mask & (1 << lane) != 0 {
                    table[mask][next] = lane as u32;
                    next += 1;
                }
                lane += 1;
            }
            mask += 1;
        }
        table
    };

    /// Writes the nonzero values of `row` to the front of `values`, in order, and each one's
    /// index times `WIDTH` to `offsets`, and sets bit `p % 8` of `read[p / 8]` for each
    /// nonzero `row[p]`; returns how many there are. Scalar tail after the whole registers.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA; `offsets` and `values` hold `row.len() + 8` values.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn compress(
        row: &[f32],
        offsets: &mut [u32],
        values: &mut [f32],
        read: &mut [u8],
    ) -> usize {
        let k = row.len();
        assert!(
            offsets.len() >= k + 8 && values.len() >= k + 8,
            "room for the terms"
        );
        let full = k / 8 * 8;
        let mut count = 0;
        let step = _mm256_set1_epi32(8 * WIDTH as i32);
        let mut idx = _mm256_mullo_epi32(
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
            _mm256_set1_epi32(WIDTH as i32),
        );
        let zero = _mm256_setzero_ps();
        for p in (0..full).step_by(8) {
            // SAFETY: p + 8 ≤ full ≤ k; count ≤ p, so count + 8 ≤ k + 8.
            unsafe {
                let x = _mm256_loadu_ps(row.as_ptr().add(p));
                let mask = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_NEQ_UQ>(x, zero)) as usize;
                let perm = _mm256_loadu_si256(COMPRESS[mask].as_ptr().cast());
                _mm256_storeu_ps(
                    values.as_mut_ptr().add(count),
                    _mm256_permutevar8x32_ps(x, perm),
                );
                _mm256_storeu_si256(
                    offsets.as_mut_ptr().add(count).cast(),
                    _mm256_permutevar8x32_epi32(idx, perm),
                );
                count += mask.count_ones() as usize;
                read[p / 8] |= mask as u8;
            }
            idx = _mm256_add_epi32(idx, step);
        }
        for (p, &x) in row.iter().enumerate().skip(full) {
            offsets[count] = (p * WIDTH) as u32;
            values[count] = x;
            count += usize::from(x != 0.0);
            read[p / 8] |= u8::from(x != 0.0) << (p % 8);
        }
        count
    }

    /// The 8 × 8 tile of `v` (row stride `vs`) at row `p`, column `i`, transposed into `t`
    /// (row stride `ts`) at row `i`, column `p`.
    ///
    /// # Safety
    /// The CPU has AVX2; both tiles are within their slices.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn transpose8(v: &[f32], vs: usize, p: usize, i: usize, t: &mut [f32], ts: usize) {
        assert!((p + 7) * vs + i + 8 <= v.len() && (i + 7) * ts + p + 8 <= t.len());
        // SAFETY: the tiles are within the slices (asserted above).
        unsafe {
            let r: [__m256; 8] =
                std::array::from_fn(|q| _mm256_loadu_ps(v.as_ptr().add((p + q) * vs + i)));
            let a0 = _mm256_unpacklo_ps(r[0], r[1]);
            let a1 = _mm256_unpackhi_ps(r[0], r[1]);
            let a2 = _mm256_unpacklo_ps(r[2], r[3]);
            let a3 = _mm256_unpackhi_ps(r[2], r[3]);
            let a4 = _mm256_unpacklo_ps(r[4], r[5]);
            let a5 = _mm256_unpackhi_ps(r[4], r[5]);
            let a6 = _mm256_unpacklo_ps(r[6], r[7]);
            let a7 = _mm256_unpackhi_ps(r[6], r[7]);
            let b0 = _mm256_shuffle_ps::<0x44>(a0, a2);
            let b1 = _mm256_shuffle_ps::<0xEE>(a0, a2);
            let b2 = _mm256_shuffle_ps::<0x44>(a1, a3);
            let b3 = _mm256_shuffle_ps::<0xEE>(a1, a3);
            let b4 = _mm256_shuffle_ps::<0x44>(a4, a6);
            let b5 = _mm256_shuffle_ps::<0xEE>(a4, a6);
            let b6 = _mm256_shuffle_ps::<0x44>(a5, a7);
            let b7 = _mm256_shuffle_ps::<0xEE>(a5, a7);
            let out = [
                _mm256_permute2f128_ps::<0x20>(b0, b4),
                _mm256_permute2f128_ps::<0x20>(b1, b5),
                _mm256_permute2f128_ps::<0x20>(b2, b6),
                _mm256_permute2f128_ps::<0x20>(b3, b7),
                _mm256_permute2f128_ps::<0x31>(b0, b4),
                _mm256_permute2f128_ps::<0x31>(b1, b5),
                _mm256_permute2f128_ps::<0x31>(b2, b6),
                _mm256_permute2f128_ps::<0x31>(b3, b7),
            ];
            for (q, o) in out.iter().enumerate() {
                _mm256_storeu_ps(t.as_mut_ptr().add((i + q) * ts + p), *o);
            }
        }
    }

    /// Output rows [`block`] computes at once: four rows of two registers keep eight FMA
    /// chains in flight, enough to hide the FMA's latency on two FMA units.
    pub const ROWS: usize = 4;

    /// For [`ROWS`] rows, each `len` terms `(offsets, values)`:
    /// `Σ_t value_t·block[offset_t ..][..WIDTH]`, each lane an FMA chain from `+0` in the
    /// terms' order.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA; every row has `len` terms and `offset_t + WIDTH ≤
    /// block.len()` for each.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn block(
        rows: [(&[u32], &[f32]); ROWS],
        len: usize,
        block: &[f32],
    ) -> [[f32; WIDTH]; ROWS] {
        let base = block.as_ptr();
        let [(o0, v0), (o1, v1), (o2, v2), (o3, v3)] = rows;
        let z = _mm256_setzero_ps();
        let (mut a0, mut a1, mut b0, mut b1) = (z, z, z, z);
        let (mut c0, mut c1, mut d0, mut d1) = (z, z, z, z);
        // One term of a row: its value times its packed row, into the row's two sums.
        macro_rules! term {
            ($o:ident, $v:ident, $t:ident, $lo:ident, $hi:ident) => {
                // SAFETY: t < len, the length of every row's terms, and each offset + WIDTH
                // ≤ block.len() (the caller's bounds).
                unsafe {
                    let p = base.add(*$o.get_unchecked($t) as usize);
                    let c = _mm256_set1_ps(*$v.get_unchecked($t));
                    $lo = _mm256_fmadd_ps(c, _mm256_loadu_ps(p), $lo);
                    $hi = _mm256_fmadd_ps(c, _mm256_loadu_ps(p.add(8)), $hi);
                }
            };
        }
        for t in 0..len {
            term!(o0, v0, t, a0, a1);
            term!(o1, v1, t, b0, b1);
            term!(o2, v2, t, c0, c1);
            term!(o3, v3, t, d0, d1);
        }
        let mut out = [[0.0f32; WIDTH]; ROWS];
        for (out, (lo, hi)) in out.iter_mut().zip([(a0, a1), (b0, b1), (c0, c1), (d0, d1)]) {
            // SAFETY: each output row holds WIDTH = 16 values.
            unsafe {
                _mm256_storeu_ps(out.as_mut_ptr(), lo);
                _mm256_storeu_ps(out.as_mut_ptr().add(8), hi);
            }
        }
        out
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod avx {
    use super::WIDTH;

    /// Never: the kernel is written for x86-64.
    pub fn available() -> bool {
        false
    }

    /// Unreachable: [`available`] is false.
    pub unsafe fn compress(_: &[f32], _: &mut [u32], _: &mut [f32], _: &mut [u8]) -> usize {
        unreachable!("the chain product needs x86-64")
    }

    /// Unreachable: [`available`] is false.
    pub unsafe fn transpose8(_: &[f32], _: usize, _: usize, _: usize, _: &mut [f32], _: usize) {
        unreachable!("the chain product needs x86-64")
    }

    /// Rows of a block.
    pub const ROWS: usize = 4;

    /// Unreachable: [`available`] is false.
    pub unsafe fn block(_: [(&[u32], &[f32]); ROWS], _: usize, _: &[f32]) -> [[f32; WIDTH]; ROWS] {
        unreachable!("the chain product needs x86-64")
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use qlab_envs::EnvRng;

    /// Values in [-1, 1), a fraction `zeros` of them zero.
    fn sparse(len: usize, zeros: f64, rng: &mut EnvRng) -> Vec<f32> {
        (0..len)
            .map(|_| {
                if rng.next_f64() < zeros {
                    0.0
                } else {
                    (rng.next_f64() * 2.0 - 1.0) as f32
                }
            })
            .collect()
    }

    fn transposed(v: &[f32], rows: usize, cols: usize) -> Vec<f32> {
        (0..rows * cols)
            .map(|q| v[(q % rows) * cols + q / rows])
            .collect()
    }

    #[test]
    fn chains_give_gemms_bits() {
        if !avx::available() {
            return; // gemm sums in another order without FMA
        }
        let mut rng = EnvRng::new(11);
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        // The three products of a 256-wide layer on a batch of 64, and odd shapes with
        // column tails.
        for (m, n, k) in [
            (64, 256, 256),
            (256, 256, 64),
            (64, 256, 4),
            (70, 37, 29),
            (9, 100, 512),
        ] {
            for zeros in [0.0, 0.6, 1.0] {
                let a = sparse(m * k, zeros, &mut rng);
                let b = sparse(k * n, 0.0, &mut rng);
                // SAFETY: the strides address a (m × k) and b (k × n), row-major.
                let want = unsafe {
                    super::super::gemm_product(m, n, k, (a.as_ptr(), 1, k), (b.as_ptr(), 1, n))
                };
                let at = transposed(&a, m, k);
                for (form, l) in [
                    ("plain", Lhs::Plain(&a, m, k)),
                    ("transposed", Lhs::Transposed(&at, k, m)),
                ] {
                    let got = product(l, &b, n, 1.0).unwrap();
                    assert_eq!(
                        bits(&got),
                        bits(&want),
                        "{m}×{n}×{k}, {zeros} zeros, {form}"
                    );
                }
            }
        }
    }
}
