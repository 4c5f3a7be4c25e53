import CleaveCore

// The one matrix multiplication of the engine: every convolution (forward, weight gradient,
// input gradient) and the transposed convolution end up here.
//
//   C[M×N] = (accumulate ? C : 0) + A[M×K] · B[K×N]
//
// A and B are strided views (row stride, column stride), so transposes cost nothing but a
// different packing loop. Blocking follows the classic scheme:
//
//   for each column chunk jc (NC columns, one task)      — C chunk stays in L2
//     for each depth block pc (KC)                        — pack B[pc.., jc..] into [panel][k][NR]
//       for each B micro-panel (NR columns)               — stays in L1
//         for each A micro-panel (MR rows, packed once)   — A block M×KC stays in L2
//           micro-kernel: MR×NR tile of C in 12 AVX registers, one FMA per (row, 8 columns, k)
//
// Every element of C is summed in the same order whatever the thread count, so results are
// bit-identical on 1 or N threads.

/// A read-only strided view of a Float matrix: element (row, column) is at
/// `base[row * rowStride + column * columnStride]`. An unsafe kernel type: it holds a borrowed
/// pointer and checks no bounds.
public struct MatrixView {
    /// Element (0, 0); the caller keeps the memory alive while the view is used.
    public let base: UnsafePointer<Float>
    /// Distance in elements between (r, c) and (r + 1, c).
    public let rowStride: Int
    /// Distance in elements between (r, c) and (r, c + 1); 1 for a row-major matrix.
    public let columnStride: Int
    /// A view of `base` with the given strides (row-major when `columnStride` is 1).
    @inlinable
    public init(_ base: UnsafePointer<Float>, rowStride: Int, columnStride: Int = 1) {
        self.base = base
        self.rowStride = rowStride
        self.columnStride = columnStride
    }
    /// The transposed view (no copy).
    @inlinable public var transposed: MatrixView {
        MatrixView(base, rowStride: columnStride, columnStride: rowStride)
    }
}

/// The logical im2col matrix of one image for a 3×3, padding-1, stride-1 convolution, never
/// materialised. `padded` holds the image with a one-pixel zero border ((H+2) × (W+2) per channel);
/// element (ci·9 + ky·3 + kx, q) is padded[ci, y + ky, x + kx] where (y, x) is pixel
/// `pixelOffset + q` of the H × W image. GEMM packs its panels straight from `padded`. An unsafe
/// kernel type: it holds a borrowed pointer and checks no bounds.
public struct Im2ColView {
    /// The image with its one-pixel zero border, channel planes of (H + 2) × (W + 2) floats (see ``unsafePad(_:channels:height:width:into:)``).
    public let padded: UnsafePointer<Float>
    /// Channels, rows and columns of the unpadded image.
    public let channels: Int, height: Int, width: Int
    /// The first pixel (row-major index into the H × W image) that column 0 of the view stands for.
    public let pixelOffset: Int
    /// A view of a padded image; columns start at pixel `pixelOffset`.
    public init(padded: UnsafePointer<Float>, channels: Int, height: Int, width: Int, pixelOffset: Int = 0) {
        self.padded = padded; self.channels = channels; self.height = height; self.width = width; self.pixelOffset = pixelOffset
    }
    /// Copies an H × W × channels image into `padded` ((H+2)·(W+2)·channels floats) with a zero border.
    public static func unsafePad(_ image: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                           into padded: UnsafeMutablePointer<Float>) {
        let pw = width + 2, plane = (height + 2) * pw
        for c in 0..<channels {
            let dst = padded + c * plane, src = image + c * height * width
            dst.update(repeating: 0, count: pw)
            for y in 0..<height {
                let row = dst + (y + 1) * pw
                row[0] = 0
                (row + 1).update(from: src + y * width, count: width)
                row[width + 1] = 0
            }
            (dst + (height + 1) * pw).update(repeating: 0, count: pw)
        }
    }
}

/// The B operand of ``GEMM/unsafeMultiply(m:n:k:a:b:c:ldc:accumulate:)``.
public enum GEMMOperand {
    /// B is an explicit (strided) matrix.
    case matrix(MatrixView)
    /// B = im2col (K = channels·9 rows, N = pixels).
    case im2col(Im2ColView)
    /// B = im2colᵀ (K = pixels, N = channels·9).
    case im2colTransposed(Im2ColView)
}

@usableFromInline let gemmMR = 4
@usableFromInline let gemmNR = 24
@usableFromInline let gemmKC = 256
@usableFromInline let gemmNCPanels = 8

/// Single-precision matrix multiplication for the U-Net engine (the blocking scheme is described
/// at the top of this file): column chunks of C are the parallel tasks, and each element of C is
/// summed in the same order whatever the thread count, so results are bit-identical on 1 or N threads.
/// - Complexity: O(M · N · K) multiply-adds; O(M · K) packed-A scratch plus one packed-B block per task.
public enum GEMM {
    /// `C[M×N] = (accumulate ? C : 0) + A[M×K] · B[K×N]`; C is row-major with row stride `ldc`.
    public static func unsafeMultiply(m: Int, n: Int, k: Int, a: MatrixView, b: MatrixView,
                                c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        unsafeMultiply(m: m, n: n, k: k, a: a, b: .matrix(b), c: c, ldc: ldc, accumulate: accumulate)
    }

    /// As above with B given as a matrix or an implicit im2col view.
    public static func unsafeMultiply(m: Int, n: Int, k: Int, a: MatrixView, b: GEMMOperand,
                                c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        let mPanels = (m + gemmMR - 1) / gemmMR
        let nPanels = (n + gemmNR - 1) / gemmNR
        let packedACapacity = mPanels * gemmMR * k
        let packedA = ScratchPool.shared.take(packedACapacity)
        defer { ScratchPool.shared.give(packedA, packedACapacity) }
        packA(m: m, k: k, a: a, into: packedA)

        // Work split: column chunks of at most gemmNCPanels panels; when there are few column
        // panels but many rows, split rows too. The split never changes a single C element's sum.
        let threads = max(1, Parallel.threadCount)
        let flops = m * n * k
        var columnTasks = min(nPanels, max(1, (nPanels + gemmNCPanels - 1) / gemmNCPanels))
        var rowTasks = 1
        if flops < 1 << 16 || threads == 1 {
            columnTasks = 1
        } else {
            if columnTasks < threads {
                columnTasks = min(nPanels, threads)
                if columnTasks < threads { rowTasks = min(mPanels, threads) }
            }
            // Round up to a multiple of the thread count for balance.
            let total = columnTasks * rowTasks
            if total % threads != 0 && columnTasks > threads {
                columnTasks = ((columnTasks + threads - 1) / threads) * threads
                columnTasks = min(columnTasks, nPanels)
            }
        }
        let taskCount = columnTasks * rowTasks
        let run: (Int) -> Void = { task in
            let ct = task % columnTasks, rt = task / columnTasks
            let p0 = nPanels * ct / columnTasks, p1 = nPanels * (ct + 1) / columnTasks
            let r0 = mPanels * rt / rowTasks, r1 = mPanels * (rt + 1) / rowTasks
            if p1 > p0 && r1 > r0 {
                multiplyBlock(m: m, n: n, k: k, packedA: packedA, panelRange: r0..<r1,
                              b: b, columnPanels: p0..<p1, c: c, ldc: ldc, accumulate: accumulate)
            }
        }
        if taskCount == 1 { run(0) } else { Parallel.forEach(taskCount, run) }
    }

    /// Packs A into [panel][k][MR], zero-padding rows beyond m.
    static func packA(m: Int, k: Int, a: MatrixView, into dst: UnsafeMutablePointer<Float>) {
        let mPanels = (m + gemmMR - 1) / gemmMR
        for p in 0..<mPanels {
            let out = dst + p * k * gemmMR
            let row0 = p * gemmMR
            let rows = min(gemmMR, m - row0)
            if a.columnStride == 1 {
                for r in 0..<gemmMR {
                    if r < rows {
                        let src = a.base + (row0 + r) * a.rowStride
                        for kk in 0..<k { out[kk * gemmMR + r] = src[kk] }
                    } else {
                        for kk in 0..<k { out[kk * gemmMR + r] = 0 }
                    }
                }
            } else if a.rowStride == 1 && rows == gemmMR {
                // Column-major source: 4 consecutive rows are contiguous for each k.
                for kk in 0..<k {
                    let src = a.base + kk * a.columnStride + row0
                    out[kk * 4] = src[0]; out[kk * 4 + 1] = src[1]
                    out[kk * 4 + 2] = src[2]; out[kk * 4 + 3] = src[3]
                }
            } else {
                for kk in 0..<k {
                    for r in 0..<gemmMR {
                        out[kk * gemmMR + r] = r < rows ? a.base[(row0 + r) * a.rowStride + kk * a.columnStride] : 0
                    }
                }
            }
        }
    }

    /// Packs rows k0..<k0+kb of B, columns of panels `panels`, into [panel][kb][NR].
    @inline(__always)
    static func packB(n: Int, k0: Int, kb: Int, b: MatrixView, panels: Range<Int>,
                      into dst: UnsafeMutablePointer<Float>) {
        for (index, p) in panels.enumerated() {
            let out = dst + index * kb * gemmNR
            let col0 = p * gemmNR
            let cols = min(gemmNR, n - col0)
            if b.columnStride == 1 {
                if cols == gemmNR {
                    for kk in 0..<kb {
                        let src = UnsafeRawPointer(b.base + (k0 + kk) * b.rowStride + col0)
                        let o = UnsafeMutableRawPointer(out + kk * gemmNR)
                        o.storeBytes(of: src.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                        o.storeBytes(of: src.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self),
                                     toByteOffset: 32, as: SIMD8<Float>.self)
                        o.storeBytes(of: src.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self),
                                     toByteOffset: 64, as: SIMD8<Float>.self)
                    }
                } else {
                    for kk in 0..<kb {
                        let src = b.base + (k0 + kk) * b.rowStride + col0
                        let o = out + kk * gemmNR
                        for j in 0..<gemmNR { o[j] = j < cols ? src[j] : 0 }
                    }
                }
            } else if b.rowStride == 1 {
                // Transposed source: for each column, k is contiguous.
                for j in 0..<gemmNR {
                    if j < cols {
                        let src = b.base + (col0 + j) * b.columnStride + k0
                        for kk in 0..<kb { out[kk * gemmNR + j] = src[kk] }
                    } else {
                        for kk in 0..<kb { out[kk * gemmNR + j] = 0 }
                    }
                }
            } else {
                for kk in 0..<kb {
                    for j in 0..<gemmNR {
                        out[kk * gemmNR + j] = j < cols ? b.base[(k0 + kk) * b.rowStride + (col0 + j) * b.columnStride] : 0
                    }
                }
            }
        }
    }

    /// Packs rows k0..<k0+kb (kernel taps) × panels (pixels) of an implicit im2col matrix.
    static func packIm2col(_ v: Im2ColView, n: Int, k0: Int, kb: Int, panels: Range<Int>,
                           into dst: UnsafeMutablePointer<Float>) {
        typealias V = SIMD8<Float>
        let w = v.width, pw = w + 2, plane = (v.height + 2) * pw
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * (gemmNR + 1)) { segments in
            let seg = segments.baseAddress!
            for (index, p) in panels.enumerated() {
                let out = dst + index * kb * gemmNR
                let col0 = p * gemmNR
                let cols = min(gemmNR, n - col0)
                // Row segments of this panel: (destination offset, padded source offset, length).
                var count = 0
                var t = 0, pixel = v.pixelOffset + col0
                while t < cols {
                    let y = pixel / w, x = pixel - (pixel / w) * w
                    let length = min(cols - t, w - x)
                    seg[3 * count] = t; seg[3 * count + 1] = y * pw + x; seg[3 * count + 2] = length
                    count += 1
                    t += length; pixel += length
                }
                let single = count == 1 && cols == gemmNR
                let source0 = seg[1]
                var ci = k0 / 9, tap = k0 - (k0 / 9) * 9
                for kk in 0..<kb {
                    let ky = tap / 3, kx = tap - (tap / 3) * 3
                    let base = v.padded + ci * plane + ky * pw + kx
                    tap += 1
                    if tap == 9 { tap = 0; ci += 1 }
                    let o = out + kk * gemmNR
                    if single {
                        let src = UnsafeRawPointer(base + source0)
                        let raw = UnsafeMutableRawPointer(o)
                        raw.storeBytes(of: src.loadUnaligned(as: V.self), as: V.self)
                        raw.storeBytes(of: src.loadUnaligned(fromByteOffset: 32, as: V.self), toByteOffset: 32, as: V.self)
                        raw.storeBytes(of: src.loadUnaligned(fromByteOffset: 64, as: V.self), toByteOffset: 64, as: V.self)
                        continue
                    }
                    for s in 0..<count {
                        let d = o + seg[3 * s], src = base + seg[3 * s + 1]
                        for u in 0..<seg[3 * s + 2] { d[u] = src[u] }
                    }
                    for u in cols..<gemmNR { o[u] = 0 }
                }
            }
        }
    }

    /// Packs rows k0..<k0+kb (pixels) × panels (kernel taps) of an implicit im2colᵀ matrix.
    static func packIm2colTransposed(_ v: Im2ColView, n: Int, k0: Int, kb: Int, panels: Range<Int>,
                                     into dst: UnsafeMutablePointer<Float>) {
        let w = v.width, pw = w + 2, plane = (v.height + 2) * pw
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * (kb + 1)) { segments in
            let seg = segments.baseAddress!
            var count = 0
            var t = 0, pixel = v.pixelOffset + k0
            while t < kb {
                let y = pixel / w, x = pixel - (pixel / w) * w
                let length = min(kb - t, w - x)
                seg[3 * count] = t; seg[3 * count + 1] = y * pw + x; seg[3 * count + 2] = length
                count += 1
                t += length; pixel += length
            }
            for (index, p) in panels.enumerated() {
                let out = dst + index * kb * gemmNR
                let col0 = p * gemmNR
                let cols = min(gemmNR, n - col0)
                // Columns ≥ cols repeat the last tap: the micro-kernel never stores those columns.
                @inline(__always) func base(_ j: Int) -> UnsafePointer<Float> {
                    let kidx = col0 + min(j, cols - 1)
                    let ci = kidx / 9, tap = kidx - (kidx / 9) * 9
                    let ky = tap / 3, kx = tap - (tap / 3) * 3
                    return v.padded + ci * plane + ky * pw + kx
                }
                for group in 0..<(gemmNR / 8) {
                    let b0 = base(group * 8), b1 = base(group * 8 + 1), b2 = base(group * 8 + 2), b3 = base(group * 8 + 3)
                    let b4 = base(group * 8 + 4), b5 = base(group * 8 + 5), b6 = base(group * 8 + 6), b7 = base(group * 8 + 7)
                    for s in 0..<count {
                        let d = out + seg[3 * s] * gemmNR + group * 8
                        let offset = seg[3 * s + 1], length = seg[3 * s + 2]
                        var u = 0
                        while u + 8 <= length {
                            // 8 taps × 8 pixels, transposed in registers to 8 pixels × 8 taps.
                            let o = offset + u
                            Self.transposeStore(load8(b0 + o), load8(b1 + o), load8(b2 + o), load8(b3 + o),
                                                load8(b4 + o), load8(b5 + o), load8(b6 + o), load8(b7 + o),
                                                to: d + u * gemmNR, stride: gemmNR)
                            u += 8
                        }
                        while u < length {
                            let o = offset + u, e = d + u * gemmNR
                            e[0] = b0[o]; e[1] = b1[o]; e[2] = b2[o]; e[3] = b3[o]
                            e[4] = b4[o]; e[5] = b5[o]; e[6] = b6[o]; e[7] = b7[o]
                            u += 1
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// Writes the transpose of the 8×8 matrix with rows r0…r7 as 8 rows of 8 at `to`, `stride` apart.
    /// Three perfect un-shuffles of the 64 elements rotate the index bits by 3, i.e. transpose.
    @inline(__always)
    static func transposeStore(_ r0: SIMD8<Float>, _ r1: SIMD8<Float>, _ r2: SIMD8<Float>, _ r3: SIMD8<Float>,
                               _ r4: SIMD8<Float>, _ r5: SIMD8<Float>, _ r6: SIMD8<Float>, _ r7: SIMD8<Float>,
                               to: UnsafeMutablePointer<Float>, stride: Int) {
        typealias W = SIMD16<Float>
        @inline(__always) func round(_ a: inout SIMD8<Float>, _ b: inout SIMD8<Float>, _ c: inout SIMD8<Float>, _ d: inout SIMD8<Float>,
                                     _ e: inout SIMD8<Float>, _ f: inout SIMD8<Float>, _ g: inout SIMD8<Float>, _ h: inout SIMD8<Float>) {
            let p0 = W(lowHalf: a, highHalf: b), p1 = W(lowHalf: c, highHalf: d)
            let p2 = W(lowHalf: e, highHalf: f), p3 = W(lowHalf: g, highHalf: h)
            a = p0.evenHalf; b = p1.evenHalf; c = p2.evenHalf; d = p3.evenHalf
            e = p0.oddHalf; f = p1.oddHalf; g = p2.oddHalf; h = p3.oddHalf
        }
        var a = r0, b = r1, c = r2, d = r3, e = r4, f = r5, g = r6, h = r7
        round(&a, &b, &c, &d, &e, &f, &g, &h)
        round(&a, &b, &c, &d, &e, &f, &g, &h)
        round(&a, &b, &c, &d, &e, &f, &g, &h)
        let raw = UnsafeMutableRawPointer(to)
        let step = stride * 4
        raw.storeBytes(of: a, toByteOffset: 0, as: SIMD8<Float>.self)
        raw.storeBytes(of: b, toByteOffset: step, as: SIMD8<Float>.self)
        raw.storeBytes(of: c, toByteOffset: 2 * step, as: SIMD8<Float>.self)
        raw.storeBytes(of: d, toByteOffset: 3 * step, as: SIMD8<Float>.self)
        raw.storeBytes(of: e, toByteOffset: 4 * step, as: SIMD8<Float>.self)
        raw.storeBytes(of: f, toByteOffset: 5 * step, as: SIMD8<Float>.self)
        raw.storeBytes(of: g, toByteOffset: 6 * step, as: SIMD8<Float>.self)
        raw.storeBytes(of: h, toByteOffset: 7 * step, as: SIMD8<Float>.self)
    }

    static func multiplyBlock(m: Int, n: Int, k: Int, packedA: UnsafeMutablePointer<Float>, panelRange: Range<Int>,
                              b: GEMMOperand, columnPanels: Range<Int>,
                              c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        let bufferPanels = gemmNCPanels
        let packedB = ScratchPool.shared.take(bufferPanels * gemmKC * gemmNR)
        defer { ScratchPool.shared.give(packedB, bufferPanels * gemmKC * gemmNR) }
        var jc = columnPanels.lowerBound
        while jc < columnPanels.upperBound {
            let jcEnd = min(columnPanels.upperBound, jc + bufferPanels)
            var pc = 0
            while pc < k {
                let kb = min(gemmKC, k - pc)
                switch b {
                case .matrix(let view): packB(n: n, k0: pc, kb: kb, b: view, panels: jc..<jcEnd, into: packedB)
                case .im2col(let view): packIm2col(view, n: n, k0: pc, kb: kb, panels: jc..<jcEnd, into: packedB)
                case .im2colTransposed(let view):
                    packIm2colTransposed(view, n: n, k0: pc, kb: kb, panels: jc..<jcEnd, into: packedB)
                }
                let load = accumulate || pc > 0
                for jp in jc..<jcEnd {
                    let bPanel = packedB + (jp - jc) * kb * gemmNR
                    let col0 = jp * gemmNR
                    let cols = min(gemmNR, n - col0)
                    for ip in panelRange {
                        let row0 = ip * gemmMR
                        let rows = min(gemmMR, m - row0)
                        microKernel(kb, packedA + ip * k * gemmMR + pc * gemmMR, bPanel,
                                    c + row0 * ldc + col0, ldc, rows: rows, cols: cols, load: load)
                    }
                }
                pc += kb
            }
            jc = jcEnd
        }
    }

    @inline(__always)
    static func microKernel(_ kb: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                            _ c: UnsafeMutablePointer<Float>, _ ldc: Int, rows: Int, cols: Int, load: Bool) {
        typealias V = SIMD8<Float>
        var c00 = V(), c01 = V(), c02 = V()
        var c10 = V(), c11 = V(), c12 = V()
        var c20 = V(), c21 = V(), c22 = V()
        var c30 = V(), c31 = V(), c32 = V()
        var ap = a
        var bp = UnsafeRawPointer(b)
        for _ in 0..<kb {
            let b0 = bp.loadUnaligned(as: V.self)
            let b1 = bp.loadUnaligned(fromByteOffset: 32, as: V.self)
            let b2 = bp.loadUnaligned(fromByteOffset: 64, as: V.self)
            let a0 = V(repeating: ap[0])
            c00 = c00.addingProduct(a0, b0); c01 = c01.addingProduct(a0, b1); c02 = c02.addingProduct(a0, b2)
            let a1 = V(repeating: ap[1])
            c10 = c10.addingProduct(a1, b0); c11 = c11.addingProduct(a1, b1); c12 = c12.addingProduct(a1, b2)
            let a2 = V(repeating: ap[2])
            c20 = c20.addingProduct(a2, b0); c21 = c21.addingProduct(a2, b1); c22 = c22.addingProduct(a2, b2)
            let a3 = V(repeating: ap[3])
            c30 = c30.addingProduct(a3, b0); c31 = c31.addingProduct(a3, b1); c32 = c32.addingProduct(a3, b2)
            ap += 4
            bp += 96
        }
        if rows == 4 && cols == 24 {
            @inline(__always) func store(_ row: Int, _ x0: V, _ x1: V, _ x2: V) {
                let p = UnsafeMutableRawPointer(c + row * ldc)
                if load {
                    p.storeBytes(of: p.loadUnaligned(as: V.self) + x0, as: V.self)
                    p.storeBytes(of: p.loadUnaligned(fromByteOffset: 32, as: V.self) + x1, toByteOffset: 32, as: V.self)
                    p.storeBytes(of: p.loadUnaligned(fromByteOffset: 64, as: V.self) + x2, toByteOffset: 64, as: V.self)
                } else {
                    p.storeBytes(of: x0, as: V.self)
                    p.storeBytes(of: x1, toByteOffset: 32, as: V.self)
                    p.storeBytes(of: x2, toByteOffset: 64, as: V.self)
                }
            }
            store(0, c00, c01, c02); store(1, c10, c11, c12); store(2, c20, c21, c22); store(3, c30, c31, c32)
        } else {
            withUnsafeTemporaryAllocation(of: V.self, capacity: 12) { tile in
                tile[0] = c00; tile[1] = c01; tile[2] = c02; tile[3] = c10; tile[4] = c11; tile[5] = c12
                tile[6] = c20; tile[7] = c21; tile[8] = c22; tile[9] = c30; tile[10] = c31; tile[11] = c32
                for r in 0..<rows {
                    let dst = c + r * ldc
                    for j in 0..<cols {
                        let value = tile[r * 3 + j / 8][j % 8]
                        dst[j] = load ? dst[j] + value : value
                    }
                }
            }
        }
    }
}

/// Reuses packing buffers across GEMM calls (large mallocs would otherwise page-fault every call).
final class ScratchPool: @unchecked Sendable {
    static let shared = ScratchPool()
    private var mutex = pthread_mutex_t()
    private var free: [(pointer: UnsafeMutablePointer<Float>, capacity: Int)] = []

    init() { pthread_mutex_init(&mutex, nil) }

    /// A buffer of at least `count` floats; hand it back with the same count.
    /// Buffers come in power-of-two size classes so different shapes share them.
    static func sizeClass(_ count: Int) -> Int { max(1024, 1 << (Int.bitWidth - (max(1, count) - 1).leadingZeroBitCount)) }

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        let capacity = Self.sizeClass(count)
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        if let index = free.lastIndex(where: { $0.capacity == capacity }) {
            return free.remove(at: index).pointer
        }
        return UnsafeMutablePointer<Float>.allocate(capacity: capacity)
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, _ count: Int) {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        free.append((pointer, Self.sizeClass(count)))
        // Keep the pool bounded: drop the oldest buffers beyond 64.
        while free.count > 64 { free.removeFirst().pointer.deallocate() }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
