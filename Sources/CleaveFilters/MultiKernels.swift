import CleaveCore

// Several kernels of equal length applied along one axis in a single sweep: the Gaussian
// derivatives of orders 0, 1 and 2 at one scale read the same input samples, so computing them
// together loads each sample once for 2–3 fused multiply-adds instead of one (passes are
// load-bound). Every output gets exactly the same sequence of operations as in the one-kernel
// pass (start at 0, one FMA per tap, taps in order), so results are bit-identical to it.

/// Applies 2 or 3 correlation kernels (equal tap counts) along the axis of `geometry`.
func runMultiPass(_ kernels: [[Float]], geometry g: PassGeometry, boundary: Boundary,
                  source: UnsafeBufferPointer<Float>, destinations: [UnsafeMutablePointer<Float>]) {
    precondition(kernels.count == 2 || kernels.count == 3, "runMultiPass takes 2 or 3 kernels")
    precondition(Set(kernels.map(\.count)).count == 1, "runMultiPass kernels must have equal tap counts")
    let tapCount = kernels[0].count
    let r = (tapCount - 1) / 2
    let n = g.length
    let padded = n + 2 * r
    var map = [Int](repeating: -1, count: padded)
    for p in 0..<padded { map[p] = boundary.sourceIndex(p - r, count: n) ?? -1 }
    // Taps as one buffer: kernel j's taps at j * tapCount.
    var taps = [Float](repeating: 0, count: 3 * tapCount)
    for (j, kernel) in kernels.enumerated() { for k in 0..<tapCount { taps[j * tapCount + k] = kernel[k] } }
    let three = kernels.count == 3
    let src = UncheckedSendable(source.baseAddress!)
    let outs = destinations.map { UncheckedSendable($0) }
    let fill = boundary.fillValue
    taps.withUnsafeBufferPointer { tapBuffer in
        map.withUnsafeBufferPointer { mapBuffer in
            let t = UncheckedSendable(tapBuffer.baseAddress!)
            let mapPointer = UncheckedSendable(mapBuffer.baseAddress!)
            if g.run == 1 {
                let chunks = Parallel.chunkCount(total: g.outerCount * n, minimumPerChunk: 32_768)
                Parallel.forEachChunk(of: g.outerCount, chunkCount: chunks) { lines in
                    let capacity = padded + 4 * lanes + 1
                    let line = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
                    line.initialize(repeating: 0, count: capacity)
                    defer { line.deallocate() }
                    for outer in lines {
                        let input = src.value + outer * g.outerStride
                        (line + r).update(from: input, count: n)
                        for p in 0..<r {
                            let m = mapPointer.value[p]
                            line[p] = m >= 0 ? input[m] : fill
                            let q = padded - 1 - p
                            let mq = mapPointer.value[q]
                            line[q] = mq >= 0 ? input[mq] : fill
                        }
                        let offset = outer * g.outerStride
                        correlateLineMany(line, count: n, taps: t.value, tapCount: tapCount, three: three,
                                          outputs: (outs[0].value + offset, outs[1].value + offset,
                                                    three ? outs[2].value + offset : outs[1].value + offset))
                    }
                }
            } else {
                let constantRow = [Float](repeating: fill, count: stripWidth + lanes)
                constantRow.withUnsafeBufferPointer { constantBuffer in
                    let constant = UncheckedSendable(constantBuffer.baseAddress!)
                    let strips = (g.run + stripWidth - 1) / stripWidth
                    let bands = (n + bandHeight - 1) / bandHeight
                    Parallel.forEach(g.outerCount * strips * bands) { item in
                        let tile = StridedTile(item: item, strips: strips, bands: bands, geometry: g, length: n)
                        let (width, row0, rows, base) = (tile.width, tile.row0, tile.rows, tile.base)
                        let window = rows + 2 * r
                        let rowPointers = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: window)
                        let compact = UnsafeMutablePointer<Float>.allocate(capacity: window * stripWidth)
                        defer { rowPointers.deallocate(); compact.deallocate() }
                        for p in 0..<window {
                            let m = mapPointer.value[row0 + p]
                            let from = m >= 0 ? src.value + base + m * g.stride : constant.value
                            (compact + p * stripWidth).update(from: from, count: width)
                            rowPointers[p] = UnsafePointer(compact + p * stripWidth)
                        }
                        let offset = base + row0 * g.stride
                        correlateColumnsMany(rowPointers, rows: rows, width: width, taps: t.value, tapCount: tapCount,
                                             three: three, outputStride: g.stride,
                                             outputs: (outs[0].value + offset, outs[1].value + offset,
                                                       three ? outs[2].value + offset : outs[1].value + offset))
                    }
                }
            }
        }
    }
}

/// Two or three kernels over a padded line, 16 outputs per step (then 8 with a partial store).
@inline(__always)
func correlateLineMany(_ line: UnsafePointer<Float>, count: Int, taps: UnsafePointer<Float>, tapCount: Int, three: Bool,
                       outputs: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)) {
    let ta = taps, tb = taps + tapCount, tc = taps + 2 * tapCount
    var i = 0
    while i + 2 * lanes <= count {
        var a0 = Vector(), a1 = Vector(), b0 = Vector(), b1 = Vector(), c0 = Vector(), c1 = Vector()
        var p = line + i
        if three {
            for k in 0..<tapCount {
                let v0 = loadVector(p), v1 = loadVector(p + lanes)
                let wa = Vector(repeating: ta[k]), wb = Vector(repeating: tb[k]), wc = Vector(repeating: tc[k])
                a0 = a0.addingProduct(v0, wa); a1 = a1.addingProduct(v1, wa)
                b0 = b0.addingProduct(v0, wb); b1 = b1.addingProduct(v1, wb)
                c0 = c0.addingProduct(v0, wc); c1 = c1.addingProduct(v1, wc)
                p += 1
            }
            storeVector(c0, outputs.2 + i); storeVector(c1, outputs.2 + i + lanes)
        } else {
            for k in 0..<tapCount {
                let v0 = loadVector(p), v1 = loadVector(p + lanes)
                let wa = Vector(repeating: ta[k]), wb = Vector(repeating: tb[k])
                a0 = a0.addingProduct(v0, wa); a1 = a1.addingProduct(v1, wa)
                b0 = b0.addingProduct(v0, wb); b1 = b1.addingProduct(v1, wb)
                p += 1
            }
        }
        storeVector(a0, outputs.0 + i); storeVector(a1, outputs.0 + i + lanes)
        storeVector(b0, outputs.1 + i); storeVector(b1, outputs.1 + i + lanes)
        i += 2 * lanes
    }
    while i < count {
        var a = Vector(), b = Vector(), c = Vector()
        var p = line + i
        for k in 0..<tapCount {
            let v = loadVector(p)
            a = a.addingProduct(v, Vector(repeating: ta[k]))
            b = b.addingProduct(v, Vector(repeating: tb[k]))
            if three { c = c.addingProduct(v, Vector(repeating: tc[k])) }
            p += 1
        }
        let valid = min(lanes, count - i)
        for l in 0..<valid {
            outputs.0[i + l] = a[l]
            outputs.1[i + l] = b[l]
            if three { outputs.2[i + l] = c[l] }
        }
        i += lanes
    }
}

/// Two or three kernels down compact column strips, 16 columns per step.
@inline(__always)
func correlateColumnsMany(_ rowPointers: UnsafePointer<UnsafePointer<Float>>, rows: Int, width: Int,
                          taps: UnsafePointer<Float>, tapCount: Int, three: Bool, outputStride: Int,
                          outputs: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)) {
    let ta = taps, tb = taps + tapCount, tc = taps + 2 * tapCount
    for y in 0..<rows {
        let window = rowPointers + y
        let o = y * outputStride
        var c = 0
        while c + 2 * lanes <= width {
            var a0 = Vector(), a1 = Vector(), b0 = Vector(), b1 = Vector(), c0 = Vector(), c1 = Vector()
            if three {
                for k in 0..<tapCount {
                    let p = window[k] + c
                    let v0 = loadVector(p), v1 = loadVector(p + lanes)
                    let wa = Vector(repeating: ta[k]), wb = Vector(repeating: tb[k]), wc = Vector(repeating: tc[k])
                    a0 = a0.addingProduct(v0, wa); a1 = a1.addingProduct(v1, wa)
                    b0 = b0.addingProduct(v0, wb); b1 = b1.addingProduct(v1, wb)
                    c0 = c0.addingProduct(v0, wc); c1 = c1.addingProduct(v1, wc)
                }
                storeVector(c0, outputs.2 + o + c); storeVector(c1, outputs.2 + o + c + lanes)
            } else {
                for k in 0..<tapCount {
                    let p = window[k] + c
                    let v0 = loadVector(p), v1 = loadVector(p + lanes)
                    let wa = Vector(repeating: ta[k]), wb = Vector(repeating: tb[k])
                    a0 = a0.addingProduct(v0, wa); a1 = a1.addingProduct(v1, wa)
                    b0 = b0.addingProduct(v0, wb); b1 = b1.addingProduct(v1, wb)
                }
            }
            storeVector(a0, outputs.0 + o + c); storeVector(a1, outputs.0 + o + c + lanes)
            storeVector(b0, outputs.1 + o + c); storeVector(b1, outputs.1 + o + c + lanes)
            c += 2 * lanes
        }
        while c < width {
            let valid = min(lanes, width - c)
            var a = Vector(), b = Vector(), d = Vector()
            for k in 0..<tapCount {
                let p = window[k] + c
                let v = valid == lanes ? loadVector(p) : loadPartial(p, valid)
                a = a.addingProduct(v, Vector(repeating: ta[k]))
                b = b.addingProduct(v, Vector(repeating: tb[k]))
                if three { d = d.addingProduct(v, Vector(repeating: tc[k])) }
            }
            for l in 0..<valid {
                outputs.0[o + c + l] = a[l]
                outputs.1[o + c + l] = b[l]
                if three { outputs.2[o + c + l] = d[l] }
            }
            c += lanes
        }
    }
}

/// Applies several kernels (nil = identity) along one axis of `image`, sharing the sweep between
/// kernels of equal length. Returns one image per kernel, in order.
func multiPass(_ image: Image<Float>, axis: Axis, kernels: [[Float]?], boundary: Boundary) -> [Image<Float>] {
    var results = [Image<Float>?](repeating: nil, count: kernels.count)
    var pending: [Int] = []
    for (i, kernel) in kernels.enumerated() {
        if let kernel, kernel != [1], !(axis == .z && image.depth == 1) { pending.append(i) } else { results[i] = image }
    }
    let geometry = PassGeometry.along(axis, shape: image.shape)
    while !pending.isEmpty {
        let length = kernels[pending[0]]!.count
        let group = Array(pending.filter { kernels[$0]!.count == length }.prefix(3))
        pending.removeAll { group.contains($0) }
        if group.count == 1 {
            results[group[0]] = separablePasses(image, [(axis, .correlate(kernels[group[0]]!))], boundary: boundary)
            continue
        }
        var first = uninitializedFloats(image.pixels.count), second = uninitializedFloats(image.pixels.count)
        var third = group.count == 3 ? uninitializedFloats(image.pixels.count) : []
        image.pixels.withUnsafeBufferPointer { source in
            first.withUnsafeMutableBufferPointer { d0 in
                second.withUnsafeMutableBufferPointer { d1 in
                    if group.count == 3 {
                        third.withUnsafeMutableBufferPointer { d2 in
                            runMultiPass(group.map { kernels[$0]! }, geometry: geometry, boundary: boundary, source: source,
                                         destinations: [d0.baseAddress!, d1.baseAddress!, d2.baseAddress!])
                        }
                    } else {
                        runMultiPass(group.map { kernels[$0]! }, geometry: geometry, boundary: boundary, source: source,
                                     destinations: [d0.baseAddress!, d1.baseAddress!])
                    }
                }
            }
        }
        for (j, index) in group.enumerated() {
            results[index] = Image(shape: image.shape, pixels: [first, second, third][j], spacing: image.spacing)
        }
    }
    return results.map { $0! }
}
