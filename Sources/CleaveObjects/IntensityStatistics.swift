import CleaveCore

/// Per-object intensity statistics and the core-to-rim profile.
///
/// Core-to-rim profile (channel 0): every object pixel gets its Euclidean distance `d` to the
/// nearest pixel outside the object (other objects, background and the image edge count as
/// outside; a boundary pixel has d = 1, in pixel units). Normalised depth
/// `t = (d − 1) / (d_max − 1)` (0 on the rim, 1 at the deepest pixel; 0 everywhere when the
/// object is one or two pixels thick) puts the pixel in shell `min(K − 1, ⌊t·K⌋)` of K shells.
/// Columns: `shell1_mean` (rim) … `shellK_mean` (core), `rim_mean` = shell 1, `core_mean` =
/// shell K, and
///
///     zoning_index = (core_mean − rim_mean) / std_intensity
///
/// — the core-minus-rim contrast in units of the object's own grey-value spread: near 0 for
/// unzoned crystals (any noise level), about ±1.5…2 for a sharp core/rim step, positive when the
/// core is brighter (normal zoning), negative for reverse zoning. NaN when the object has no
/// core shell (thin objects); 0 when the object is perfectly uniform.
enum IntensityStatistics {
    static func add(to table: inout ObjectTable, labels image: LabelImage, intensity: Image<Float>,
                    percentiles: [Double], shellCount: Int) {
        let objectCount = image.objectCount
        let total = image.shape.count
        // Bucket pixel indices by label (counting sort, raster order kept inside each bucket).
        var offsets = [Int](repeating: 0, count: objectCount + 2)
        for l in image.labels { offsets[Int(l) + 1] += 1 }
        for l in 0...objectCount { offsets[l + 1] += offsets[l] }
        var fill = offsets
        var order = [Int32](repeating: 0, count: total)
        for i in 0..<total { let l = Int(image.labels[i]); order[fill[l]] = Int32(i); fill[l] += 1 }

        let rows = table.count
        let channels = intensity.channels
        let statsPerChannel = 4 + percentiles.count
        let profileWidth = shellCount + 1 // shells + zoning index
        var results = [Double](repeating: .nan, count: rows * (channels * statsPerChannel + profileWidth))
        let resultWidth = channels * statsPerChannel + profileWidth
        let w = image.shape.width, h = image.shape.height
        let labelsOfRows = table.labels
        results.withUnsafeMutableBufferPointer { out in
            let box = UncheckedSendable(out)
            Parallel.forEachChunk(of: rows, chunkCount: Parallel.chunkCount(total: rows, minimumPerChunk: 32)) { range in
                var values: [Float] = []
                for row in range {
                    let l = Int(labelsOfRows[row])
                    let members = order[offsets[l]..<offsets[l + 1]]
                    let base = row * resultWidth
                    var spread0 = 0.0
                    for c in 0..<channels {
                        let start = c * image.shape.channelSize
                        values.removeAll(keepingCapacity: true)
                        for i in members { values.append(intensity.pixels[start + Int(i)]) }
                        var sum = 0.0
                        for v in values { sum += Double(v) }
                        let mean = sum / Double(values.count)
                        var squares = 0.0
                        for v in values { squares += (Double(v) - mean) * (Double(v) - mean) }
                        let std = (squares / Double(values.count)).squareRoot()
                        if c == 0 { spread0 = std }
                        values.sort()
                        let o = base + c * statsPerChannel
                        box.value[o] = mean; box.value[o + 1] = std
                        box.value[o + 2] = Double(values[0]); box.value[o + 3] = Double(values[values.count - 1])
                        for (k, p) in percentiles.enumerated() {
                            let position = p / 100 * Double(values.count - 1)
                            let lo = Int(position.rounded(.down)), hi = min(lo + 1, values.count - 1)
                            let f = position - Double(lo)
                            box.value[o + 4 + k] = Double(values[lo]) + (Double(values[hi]) - Double(values[lo])) * f
                        }
                    }
                    // Core-to-rim profile of channel 0 in the object's padded bounding box.
                    var minX = Int.max, minY = Int.max, minZ = Int.max, maxX = -1, maxY = -1, maxZ = -1
                    for i in members {
                        let i = Int(i), x = i % w, y = (i / w) % h, z = i / (w * h)
                        minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
                        minZ = min(minZ, z); maxZ = max(maxZ, z)
                    }
                    let is3D = image.shape.depth > 1
                    let bw = maxX - minX + 3, bh = maxY - minY + 3, bd = is3D ? maxZ - minZ + 3 : 1
                    let pad = is3D ? 1 : 0
                    var mask = [Bool](repeating: false, count: bw * bh * bd)
                    for i in members {
                        let i = Int(i), x = i % w, y = (i / w) % h, z = i / (w * h)
                        mask[((z - minZ + pad) * bh + (y - minY + 1)) * bw + (x - minX + 1)] = true
                    }
                    let squared = DistanceTransform.squaredEuclidean(
                        foreground: mask, shape: Shape(width: bw, height: bh, depth: bd), spacing: (1, 1, 1), parallel: false)
                    var deepest = 1.0
                    for i in members {
                        let i = Int(i), x = i % w, y = (i / w) % h, z = i / (w * h)
                        deepest = max(deepest, squared[((z - minZ + pad) * bh + (y - minY + 1)) * bw + (x - minX + 1)])
                    }
                    deepest = deepest.squareRoot()
                    var shellSum = [Double](repeating: 0, count: shellCount), shellCount_ = [Int](repeating: 0, count: shellCount)
                    for i in members {
                        let i = Int(i), x = i % w, y = (i / w) % h, z = i / (w * h)
                        let d = squared[((z - minZ + pad) * bh + (y - minY + 1)) * bw + (x - minX + 1)].squareRoot()
                        let t = deepest > 1 ? (d - 1) / (deepest - 1) : 0
                        let shell = min(shellCount - 1, Int(t * Double(shellCount)))
                        shellSum[shell] += Double(intensity.pixels[i])
                        shellCount_[shell] += 1
                    }
                    let p = base + channels * statsPerChannel
                    for k in 0..<shellCount { box.value[p + k] = shellCount_[k] > 0 ? shellSum[k] / Double(shellCount_[k]) : .nan }
                    let rim = box.value[p], core = box.value[p + shellCount - 1]
                    box.value[p + shellCount] = spread0 > 0 ? (core - rim) / spread0 : (core.isNaN ? .nan : 0)
                }
            }
        }
        func column(_ k: Int) -> [Double] { (0..<rows).map { results[$0 * resultWidth + k] } }
        for c in 0..<channels {
            let suffix = c == 0 ? "" : "_c\(c + 1)"
            let o = c * statsPerChannel
            table.setColumn("mean_intensity" + suffix, column(o))
            table.setColumn("std_intensity" + suffix, column(o + 1))
            table.setColumn("min_intensity" + suffix, column(o + 2))
            table.setColumn("max_intensity" + suffix, column(o + 3))
            for (k, p) in percentiles.enumerated() {
                let name = p == p.rounded() ? String(Int(p)) : String(p).replacingOccurrences(".", "_")
                table.setColumn("intensity_p\(name)" + suffix, column(o + 4 + k))
            }
        }
        let p = channels * statsPerChannel
        for k in 0..<shellCount { table.setColumn("shell\(k + 1)_mean", column(p + k)) }
        table.setColumn("rim_mean", column(p))
        table.setColumn("core_mean", column(p + shellCount - 1))
        table.setColumn("zoning_index", column(p + shellCount))
    }
}

extension String {
    func replacingOccurrences(_ target: Character, _ replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}
