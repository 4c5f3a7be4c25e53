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
/// `base[row * rowStride + column * columnStride]`.
public struct MatrixView {
    public let base: UnsafePointer<Float>
    public let rowStride: Int
    public let columnStride: Int
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

@usableFromInline let gemmMR = 4
@usableFromInline let gemmNR = 24
@usableFromInline let gemmKC = 256
@usableFromInline let gemmNCPanels = 8

public enum GEMM {
    /// `C[M×N] = (accumulate ? C : 0) + A[M×K] · B[K×N]`; C is row-major with row stride `ldc`.
    public static func multiply(m: Int, n: Int, k: Int, a: MatrixView, b: MatrixView,
                                c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        let mPanels = (m + gemmMR - 1) / gemmMR
        let nPanels = (n + gemmNR - 1) / gemmNR
        let packedA = UnsafeMutablePointer<Float>.allocate(capacity: mPanels * gemmMR * k)
        defer { packedA.deallocate() }
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

    static func multiplyBlock(m: Int, n: Int, k: Int, packedA: UnsafeMutablePointer<Float>, panelRange: Range<Int>,
                              b: MatrixView, columnPanels: Range<Int>,
                              c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        let bufferPanels = gemmNCPanels
        let packedB = UnsafeMutablePointer<Float>.allocate(capacity: bufferPanels * gemmKC * gemmNR)
        defer { packedB.deallocate() }
        var jc = columnPanels.lowerBound
        while jc < columnPanels.upperBound {
            let jcEnd = min(columnPanels.upperBound, jc + bufferPanels)
            var pc = 0
            while pc < k {
                let kb = min(gemmKC, k - pc)
                packB(n: n, k0: pc, kb: kb, b: b, panels: jc..<jcEnd, into: packedB)
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
