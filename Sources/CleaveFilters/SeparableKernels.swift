import CleaveCore

// The hot loops of every separable filter: a 1D correlation (or a running min/max) applied along
// one axis of a dense (channel, plane, row, column) buffer.
//
// Two shapes of work:
//
// * along x (contiguous lines): each row is copied into a padded line buffer
//   `[ext(-r) … ext(-1) | row | ext(n) … ext(n+r-1) | slack]`, then SIMD8 vectors of 8 adjacent
//   outputs are accumulated with fused multiply-adds over the taps;
// * along y or z (strided lines): the padded positions are a table of row pointers (boundary
//   rows are just pointers to the reflected rows, or to a constant row), and SIMD8 vectors run
//   across 8 adjacent columns, for column strips of `stripWidth` so the rows under the kernel
//   stay in cache.
//
// Every output sample is computed with the same sequence of fused multiply-adds whatever its
// position, lane or thread, so results do not depend on the thread count or on how an image is
// cut into tiles (only on the samples under the kernel).

@usableFromInline typealias Vector = SIMD8<Float>
@usableFromInline let lanes = 8

@inline(__always) @usableFromInline
func loadVector(_ p: UnsafePointer<Float>) -> Vector {
    UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
}

@inline(__always) @usableFromInline
func storeVector(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
}

/// Describes one pass: `lineCount` lines of `length` samples along the filtered axis, where
/// sample `i` of line `(outer, column)` is at `outer * outerStride + i * stride + column`
/// (`column` in 0..<run: the contiguous run of samples that share a line position).
@usableFromInline
struct PassGeometry: Sendable {
    var length: Int      // samples along the axis
    var stride: Int      // distance between successive samples along the axis
    var run: Int         // contiguous samples per position (1 for x; width for y; plane size for z)
    var outerCount: Int  // independent blocks
    var outerStride: Int

    @usableFromInline
    static func along(_ axis: Axis, shape: Shape) -> PassGeometry {
        switch axis {
        case .x:
            return PassGeometry(length: shape.width, stride: 1, run: 1,
                                outerCount: shape.height * shape.depth * shape.channels, outerStride: shape.width)
        case .y:
            return PassGeometry(length: shape.height, stride: shape.width, run: shape.width,
                                outerCount: shape.depth * shape.channels, outerStride: shape.planeSize)
        case .z:
            return PassGeometry(length: shape.depth, stride: shape.planeSize, run: shape.planeSize,
                                outerCount: shape.channels, outerStride: shape.channelSize)
        }
    }
}

/// What a pass computes at each output position from the window of `2r+1` padded samples.
@usableFromInline
enum LineOperation {
    case correlate([Float])   // taps
    case minimum(Int)         // radius
    case maximum(Int)         // radius

    var radius: Int {
        switch self {
        case .correlate(let taps): return (taps.count - 1) / 2
        case .minimum(let r), .maximum(let r): return r
        }
    }
}

/// Column strip width (floats) for strided passes. Each strip is first copied into a compact
/// buffer (rows 64 floats apart): reading 2r+1 rows of a 1024-wide image directly means 4 KB
/// strides that all land in the same L1 cache sets (measured 7× slower than the x pass).
let stripWidth = 64
/// Rows per work item in strided passes.
let bandHeight = 128

/// Work item `item` of a strided pass: a strip of at most ``stripWidth`` columns × a band of at
/// most ``bandHeight`` positions along the axis, in one outer slice (items ordered band-fastest).
struct StridedTile {
    /// The strip's width, the band's first position and length.
    let width, row0, rows: Int
    /// Element offset of the strip's first column in its outer slice, at position 0 along the axis.
    let base: Int

    /// The item's place for a pass of `geometry` over `length` positions cut into `strips` × `bands`.
    /// - Complexity: O(1).
    @inline(__always) init(item: Int, strips: Int, bands: Int, geometry g: PassGeometry, length n: Int) {
        let band = item % bands, strip = (item / bands) % strips
        let outer = item / (bands * strips), column0 = strip * stripWidth
        width = min(stripWidth, g.run - column0)
        row0 = band * bandHeight
        rows = min(bandHeight, n - row0)
        base = outer * g.outerStride + column0
    }
}

/// Applies `operation` along the axis described by `geometry`, reading `source` and writing
/// `destination` (distinct buffers of equal size).
func runPass(_ operation: LineOperation, geometry g: PassGeometry, boundary: Boundary,
             source: UnsafeBufferPointer<Float>, destination: UnsafeMutableBufferPointer<Float>) {
    if g.run == 1 {
        runContiguousPass(operation, geometry: g, boundary: boundary, source: source, destination: destination)
    } else {
        runStridedPass(operation, geometry: g, boundary: boundary, source: source, destination: destination)
    }
}

// MARK: - Along x

private func runContiguousPass(_ operation: LineOperation, geometry g: PassGeometry, boundary: Boundary,
                               source: UnsafeBufferPointer<Float>, destination: UnsafeMutableBufferPointer<Float>) {
    let n = g.length
    let r = operation.radius
    let padded = n + 2 * r
    let fill = boundary.fillValue
    // Map padded positions to source offsets once (−1 = constant).
    var map = [Int](repeating: -1, count: padded)
    for p in 0..<padded { map[p] = boundary.sourceIndex(p - r, count: n) ?? -1 }
    let chunks = Parallel.chunkCount(total: g.outerCount * n, minimumPerChunk: 32_768)
    let src = UncheckedSendable(source.baseAddress!)
    let dst = UncheckedSendable(destination.baseAddress!)
    map.withUnsafeBufferPointer { mapBuffer in
        let mapPointer = UncheckedSendable(mapBuffer.baseAddress!)
        Parallel.forEachChunk(of: g.outerCount, chunkCount: chunks) { lines in
            // Slack so that whole vectors can be read past the last output.
            let capacity = padded + 4 * lanes + 1
            let line = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
            line.initialize(repeating: 0, count: capacity)
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * capacity)
            defer { line.deallocate(); scratch.deallocate() }
            for outer in lines {
                let input = src.value + outer * g.outerStride
                // Interior is a straight copy; only the r samples at each end go through the map.
                (line + r).update(from: input, count: n)
                for p in 0..<r {
                    let m = mapPointer.value[p]
                    line[p] = m >= 0 ? input[m] : fill
                    let q = padded - 1 - p
                    let mq = mapPointer.value[q]
                    line[q] = mq >= 0 ? input[mq] : fill
                }
                let output = dst.value + outer * g.outerStride
                switch operation {
                case .correlate(let taps):
                    taps.withUnsafeBufferPointer { t in
                        correlateLine(line, count: n, taps: t.baseAddress!, tapCount: t.count, output: output)
                    }
                case .minimum(let radius):
                    slidingExtremumLine(line, count: n, radius: radius, scratch: scratch, output: output, minimum: true)
                case .maximum(let radius):
                    slidingExtremumLine(line, count: n, radius: radius, scratch: scratch, output: output, minimum: false)
                }
            }
        }
    }
}

/// `output[i] = Σ_k taps[k] · line[i + k]` for i in 0..<count. `line` must be readable up to
/// `roundUp(count, 8) + tapCount − 1`.
@inline(__always)
func correlateLine(_ line: UnsafePointer<Float>, count: Int, taps: UnsafePointer<Float>, tapCount: Int,
                   output: UnsafeMutablePointer<Float>) {
    var i = 0
    while i + 4 * lanes <= count {
        var a0 = Vector(), a1 = Vector(), a2 = Vector(), a3 = Vector()
        var p = line + i
        for k in 0..<tapCount {
            let w = Vector(repeating: taps[k])
            a0 = a0.addingProduct(loadVector(p), w)
            a1 = a1.addingProduct(loadVector(p + lanes), w)
            a2 = a2.addingProduct(loadVector(p + 2 * lanes), w)
            a3 = a3.addingProduct(loadVector(p + 3 * lanes), w)
            p += 1
        }
        storeVector(a0, output + i)
        storeVector(a1, output + i + lanes)
        storeVector(a2, output + i + 2 * lanes)
        storeVector(a3, output + i + 3 * lanes)
        i += 4 * lanes
    }
    while i < count {
        var a = Vector()
        var p = line + i
        for k in 0..<tapCount {
            a = a.addingProduct(loadVector(p), Vector(repeating: taps[k]))
            p += 1
        }
        let valid = min(lanes, count - i)
        if valid == lanes {
            storeVector(a, output + i)
        } else {
            for l in 0..<valid { output[i + l] = a[l] }
        }
        i += lanes
    }
}

/// Running minimum or maximum over windows of `2·radius + 1` (van Herk / Gil–Werman: prefix and
/// suffix extrema inside blocks of the window size, so about 3 comparisons per sample whatever
/// the window). `line` holds `count + 2·radius` padded samples; `scratch` at least twice that.
@inline(__always)
func slidingExtremumLine(_ line: UnsafePointer<Float>, count: Int, radius: Int, scratch: UnsafeMutablePointer<Float>,
                         output: UnsafeMutablePointer<Float>, minimum: Bool) {
    let window = 2 * radius + 1
    let total = count + 2 * radius
    let prefix = scratch
    let suffix = scratch + total
    var start = 0
    while start < total {
        let end = min(start + window, total)
        prefix[start] = line[start]
        for j in (start + 1)..<max(end, start + 1) {
            prefix[j] = minimum ? min(prefix[j - 1], line[j]) : max(prefix[j - 1], line[j])
        }
        suffix[end - 1] = line[end - 1]
        var j = end - 2
        while j >= start {
            suffix[j] = minimum ? min(suffix[j + 1], line[j]) : max(suffix[j + 1], line[j])
            j -= 1
        }
        start = end
    }
    for i in 0..<count {
        output[i] = minimum ? min(suffix[i], prefix[i + 2 * radius]) : max(suffix[i], prefix[i + 2 * radius])
    }
}

// MARK: - Along y and z

private func runStridedPass(_ operation: LineOperation, geometry g: PassGeometry, boundary: Boundary,
                            source: UnsafeBufferPointer<Float>, destination: UnsafeMutableBufferPointer<Float>) {
    let n = g.length
    let r = operation.radius
    let padded = n + 2 * r
    var map = [Int](repeating: -1, count: padded)
    for p in 0..<padded { map[p] = boundary.sourceIndex(p - r, count: n) ?? -1 }
    // A constant row stands in for samples outside the image in `.constant` mode.
    let constantRow = [Float](repeating: boundary.fillValue, count: min(g.run, stripWidth) + lanes)
    let strips = (g.run + stripWidth - 1) / stripWidth
    let bands = (n + bandHeight - 1) / bandHeight
    let items = g.outerCount * strips * bands
    let src = UncheckedSendable(source.baseAddress!)
    let dst = UncheckedSendable(destination.baseAddress!)
    constantRow.withUnsafeBufferPointer { constantBuffer in
        map.withUnsafeBufferPointer { mapBuffer in
            let constant = UncheckedSendable(constantBuffer.baseAddress!)
            let mapPointer = UncheckedSendable(mapBuffer.baseAddress!)
            Parallel.forEach(items) { item in
                let tile = StridedTile(item: item, strips: strips, bands: bands, geometry: g, length: n)
                let (width, row0, rows, base) = (tile.width, tile.row0, tile.rows, tile.base)
                // Row pointers for padded positions row0 … row0 + rows + 2r − 1.
                let window = rows + 2 * r
                let rowPointers = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: window)
                defer { rowPointers.deallocate() }
                for p in 0..<window {
                    let m = mapPointer.value[row0 + p]
                    rowPointers[p] = m >= 0 ? src.value + base + m * g.stride : constant.value
                }
                let out = dst.value + base + row0 * g.stride
                switch operation {
                case .correlate(let taps):
                    // Compact copy of the strip: row p at strip + p * stripWidth.
                    let strip = UnsafeMutablePointer<Float>.allocate(capacity: window * stripWidth)
                    defer { strip.deallocate() }
                    for p in 0..<window {
                        (strip + p * stripWidth).update(from: rowPointers[p], count: width)
                        rowPointers[p] = UnsafePointer(strip + p * stripWidth)
                    }
                    taps.withUnsafeBufferPointer { t in
                        correlateColumns(rowPointers, rows: rows, width: width, taps: t.baseAddress!, tapCount: t.count,
                                         output: out, outputStride: g.stride)
                    }
                case .minimum(let radius):
                    slidingExtremumColumns(rowPointers, rows: rows, width: width, radius: radius,
                                           output: out, outputStride: g.stride, minimum: true)
                case .maximum(let radius):
                    slidingExtremumColumns(rowPointers, rows: rows, width: width, radius: radius,
                                           output: out, outputStride: g.stride, minimum: false)
                }
            }
        }
    }
}

/// Reads a vector of `valid` (< 8) samples, zero-filling the rest (for the last columns).
@inline(__always)
func loadPartial(_ p: UnsafePointer<Float>, _ valid: Int) -> Vector {
    var v = Vector()
    for l in 0..<valid { v[l] = p[l] }
    return v
}

/// `output[y][c] = Σ_k taps[k] · rowPointers[y + k][c]` for y < rows, c < width.
@inline(__always)
func correlateColumns(_ rowPointers: UnsafePointer<UnsafePointer<Float>>, rows: Int, width: Int,
                      taps: UnsafePointer<Float>, tapCount: Int,
                      output: UnsafeMutablePointer<Float>, outputStride: Int) {
    for y in 0..<rows {
        let window = rowPointers + y
        let out = output + y * outputStride
        var c = 0
        while c + 4 * lanes <= width {
            var a0 = Vector(), a1 = Vector(), a2 = Vector(), a3 = Vector()
            for k in 0..<tapCount {
                let w = Vector(repeating: taps[k])
                let p = window[k] + c
                a0 = a0.addingProduct(loadVector(p), w)
                a1 = a1.addingProduct(loadVector(p + lanes), w)
                a2 = a2.addingProduct(loadVector(p + 2 * lanes), w)
                a3 = a3.addingProduct(loadVector(p + 3 * lanes), w)
            }
            storeVector(a0, out + c)
            storeVector(a1, out + c + lanes)
            storeVector(a2, out + c + 2 * lanes)
            storeVector(a3, out + c + 3 * lanes)
            c += 4 * lanes
        }
        while c < width {
            let valid = min(lanes, width - c)
            var a = Vector()
            for k in 0..<tapCount {
                let p = window[k] + c
                let v = valid == lanes ? loadVector(p) : loadPartial(p, valid)
                a = a.addingProduct(v, Vector(repeating: taps[k]))
            }
            if valid == lanes {
                storeVector(a, out + c)
            } else {
                for l in 0..<valid { out[c + l] = a[l] }
            }
            c += lanes
        }
    }
}

/// Running min/max down columns (van Herk / Gil–Werman across rows, SIMD across columns).
@inline(__always)
func slidingExtremumColumns(_ rowPointers: UnsafePointer<UnsafePointer<Float>>, rows: Int, width: Int, radius: Int,
                            output: UnsafeMutablePointer<Float>, outputStride: Int, minimum: Bool) {
    let window = 2 * radius + 1
    let total = rows + 2 * radius
    let prefix = UnsafeMutablePointer<Float>.allocate(capacity: total * width)
    let suffix = UnsafeMutablePointer<Float>.allocate(capacity: total * width)
    defer { prefix.deallocate(); suffix.deallocate() }
    @inline(__always) func pick(_ a: Float, _ b: Float) -> Float { minimum ? min(a, b) : max(a, b) }
    var start = 0
    while start < total {
        let end = min(start + window, total)
        (prefix + start * width).update(from: rowPointers[start], count: width)
        for j in (start + 1)..<max(end, start + 1) {
            let previous = prefix + (j - 1) * width, current = prefix + j * width, row = rowPointers[j]
            for c in 0..<width { current[c] = pick(previous[c], row[c]) }
        }
        (suffix + (end - 1) * width).update(from: rowPointers[end - 1], count: width)
        var j = end - 2
        while j >= start {
            let next = suffix + (j + 1) * width, current = suffix + j * width, row = rowPointers[j]
            for c in 0..<width { current[c] = pick(next[c], row[c]) }
            j -= 1
        }
        start = end
    }
    for y in 0..<rows {
        let s = suffix + y * width, p = prefix + (y + 2 * radius) * width, out = output + y * outputStride
        for c in 0..<width { out[c] = pick(s[c], p[c]) }
    }
}

