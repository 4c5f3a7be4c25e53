import CleaveCore
import CleaveFormats
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A seeded FIB-SEM-like volume of any size, computed block by block: every voxel depends only
/// on the seed and its coordinates, so any block can be generated alone and the volume is the
/// same whatever the block size, order or thread count. ``write(to:zarr:progress:)`` streams it
/// into an OME-Zarr image chunk by chunk (memory: a few chunks per thread), with the truth in
/// the `labels/truth` label image.
///
/// The phases and detectors follow ``FIBSEMPhantom`` (1 pore, 2 matrix, 3 grain, 4 inclusion;
/// in-lens SE and back-scatter contrasts from ``FIBSEMPhantom/phaseIntensity``; curtaining,
/// shading and noise), but objects are placed per cell of 64 × 64 × 24 voxels (Poisson counts
/// with the phantom's densities) and random numbers come from hashes of the coordinates rather
/// than one sequential stream, which is what makes blocks independent. The matrix texture is
/// value noise on a 4-pixel lattice; edges are blurred in-plane (Gaussian, σ 0.8 pixel).
public struct FIBSEMVolume: Sendable {
    /// Generation parameters.
    public struct Options: Sendable, Equatable {
        /// Columns per slice, pixels (1…2²⁰).
        public var width: Int
        /// Rows per slice, pixels (1…2²⁰).
        public var height: Int
        /// Slices (1…2²⁰; at most 2⁴⁰ voxels in all).
        public var depth: Int
        /// Seed; every voxel is a function of the seed and its coordinates.
        public var seed: UInt64
        /// 1 (in-lens only) or 2 detectors.
        public var channels: Int
        /// Curtaining strength multiplier (0 = none, 1 = default, ≤ 10).
        public var curtaining: Double
        /// Noise strength multiplier (0 = none, 1 = default, ≤ 10).
        public var noise: Double
        /// Shading strength multiplier (0 = none, 1 = default, ≤ 10).
        public var shading: Double
        /// Voxel size written into the metadata (x, y, z in nm).
        public var voxelSize: (x: Double, y: Double, z: Double)

        /// Options with both detectors, default artefacts and 5 × 5 × 10 nm voxels; ``validate()`` checks them.
        public init(width: Int, height: Int, depth: Int, seed: UInt64 = 1, channels: Int = 2, curtaining: Double = 1,
                    noise: Double = 1, shading: Double = 1, voxelSize: (x: Double, y: Double, z: Double) = (5, 5, 10)) {
            self.width = width; self.height = height; self.depth = depth; self.seed = seed; self.channels = channels
            self.curtaining = curtaining; self.noise = noise; self.shading = shading; self.voxelSize = voxelSize
        }

        /// Equal when every field is (the voxel-size tuple is compared element by element).
        public static func == (a: Options, b: Options) -> Bool {
            a.width == b.width && a.height == b.height && a.depth == b.depth && a.seed == b.seed && a.channels == b.channels
                && a.curtaining == b.curtaining && a.noise == b.noise && a.shading == b.shading
                && a.voxelSize.x == b.voxelSize.x && a.voxelSize.y == b.voxelSize.y && a.voxelSize.z == b.voxelSize.z
        }

        /// - Throws: ``SampleError`` naming the option and why.
        public func validate() throws {
            for (name, n) in [("width", width), ("height", height), ("depth", depth)] where !(1...(1 << 20)).contains(n) {
                throw SampleError.invalidOption(field: "size", value: "\(depth)x\(height)x\(width)", reason: "\(name) \(n) must be 1…1048576")
            }
            guard width * height <= 1 << 32, width * height * depth <= 1 << 40 else {
                throw SampleError.invalidOption(field: "size", value: "\(depth)x\(height)x\(width)", reason: "at most 2^32 pixels per slice and 2^40 voxels")
            }
            guard channels == 1 || channels == 2 else { throw SampleError.invalidOption(field: "channels", value: "\(channels)", reason: "must be 1 or 2") }
            for (name, v) in [("curtaining", curtaining), ("noise", noise), ("shading", shading)] where !(v >= 0 && v <= 10) {
                throw SampleError.invalidOption(field: name, value: "\(v)", reason: "must be 0…10")
            }
        }
    }

    /// The options the volume is generated with (valid).
    public let options: Options

    /// - Throws: ``SampleError`` for invalid options.
    public init(_ options: Options) throws {
        try options.validate()
        self.options = options
    }

    // MARK: Objects

    static let cell = (x: 64, y: 64, z: 24)
    /// Mean objects per cell (the phantom's 40 grains, 60 pores, 80 inclusions per 256 × 256 × 24).
    static let meanPerCell: [Double] = [40.0 / 16, 60.0 / 16, 80.0 / 16]
    /// Painting order and label of each class, with radius ranges (in-plane, z).
    static let classes: [(label: UInt8, radius: ClosedRange<Double>, zRadius: ClosedRange<Double>)] = [
        (3, 12...30, 4...10), (1, 6...16, 3...7), (4, 3...7, 2...4),
    ]
    static let reach = (xy: 35, z: 11)

    struct Ellipsoid {
        var cx, cy, cz, a, b, c, ca, sa, wobble, lobes, phase: Double
    }

    /// The objects of class `k` whose centres lie in cell (i, j, l).
    func objects(cell i: Int, _ j: Int, _ l: Int, class k: Int) -> [Ellipsoid] {
        let key = ((UInt64(truncatingIfNeeded: l) &* 0x1_0000_0001 ^ UInt64(truncatingIfNeeded: j)) &* 0x1_0000_0003) ^ UInt64(truncatingIfNeeded: i)
        var random = SeededGenerator.stream(seed: options.seed ^ FIBSEMVolume.mix(key &+ UInt64(k) &* 0x9E37_79B9), index: 7 + k)
        let count = Int(random.nextPoisson(FIBSEMVolume.meanPerCell[k]))
        let spec = FIBSEMVolume.classes[k]
        let c = FIBSEMVolume.cell
        return (0..<count).map { _ in
            let cx = Double(i * c.x) + random.nextDouble() * Double(c.x)
            let cy = Double(j * c.y) + random.nextDouble() * Double(c.y)
            let cz = Double(l * c.z) + random.nextDouble() * Double(c.z)
            let a = spec.radius.lowerBound + random.nextDouble() * (spec.radius.upperBound - spec.radius.lowerBound)
            let b = a * (0.55 + 0.45 * random.nextDouble())
            let zr = spec.zRadius.lowerBound + random.nextDouble() * (spec.zRadius.upperBound - spec.zRadius.lowerBound)
            let angle = random.nextDouble() * Double.pi
            let wobble = 0.12 * random.nextDouble(), lobes = Double(2 + random.next(below: 4))
            let phase = random.nextDouble() * 2 * Double.pi
            return Ellipsoid(cx: cx, cy: cy, cz: cz, a: a, b: b, c: zr, ca: cos(angle), sa: sin(angle), wobble: wobble, lobes: lobes, phase: phase)
        }
    }

    /// Truth labels (1…4) of a box given by origin and extent; coordinates may leave the volume
    /// (the halo of an edge block).
    func labels(x x0: Int, y y0: Int, z z0: Int, width w: Int, height h: Int, depth d: Int) -> [UInt8] {
        var out = [UInt8](repeating: 2, count: w * h * d)
        let c = FIBSEMVolume.cell, r = FIBSEMVolume.reach
        let cells = (x: (options.width + c.x - 1) / c.x, y: (options.height + c.y - 1) / c.y, z: (options.depth + c.z - 1) / c.z)
        func range(_ lo: Int, _ hi: Int, _ size: Int, _ count: Int) -> ClosedRange<Int>? {
            let a = max(0, Int((Double(lo) / Double(size)).rounded(.down))), b = min(count - 1, Int((Double(hi) / Double(size)).rounded(.down)))
            return a <= b ? a...b : nil
        }
        guard let ci = range(x0 - r.xy, x0 + w + r.xy, c.x, cells.x), let cj = range(y0 - r.xy, y0 + h + r.xy, c.y, cells.y),
              let cl = range(z0 - r.z, z0 + d + r.z, c.z, cells.z) else { return out }
        for k in 0..<FIBSEMVolume.classes.count {
            let value = FIBSEMVolume.classes[k].label
            for l in cl { for j in cj { for i in ci {
                for e in objects(cell: i, j, l, class: k) {
                    let reach = e.a * (1 + e.wobble)
                    let xa = max(x0, Int((e.cx - reach).rounded(.down))), xb = min(x0 + w - 1, Int((e.cx + reach).rounded(.down)))
                    let ya = max(y0, Int((e.cy - reach).rounded(.down))), yb = min(y0 + h - 1, Int((e.cy + reach).rounded(.down)))
                    let za = max(z0, Int((e.cz - e.c).rounded(.down))), zb = min(z0 + d - 1, Int((e.cz + e.c).rounded(.down)))
                    guard xa <= xb, ya <= yb, za <= zb else { continue }
                    for z in za...zb {
                        let dz = (Double(z) + 0.5 - e.cz) / e.c
                        let rz = 1 - dz * dz
                        if rz <= 0 { continue }
                        for y in ya...yb {
                            let dy = Double(y) + 0.5 - e.cy
                            let row = ((z - z0) * h + (y - y0)) * w - x0
                            for x in xa...xb {
                                let dx = Double(x) + 0.5 - e.cx
                                let u = (dx * e.ca + dy * e.sa) / e.a, v = (-dx * e.sa + dy * e.ca) / e.b
                                let scale = 1 + e.wobble * sin(e.lobes * atan2(v, u) + e.phase)
                                if u * u + v * v <= rz * scale * scale { out[row + x] = value }
                            }
                        }
                    }
                }
            } } }
        }
        return out
    }

    // MARK: Random numbers from coordinates

    @inline(__always) static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always) func hash(_ stream: UInt64, _ a: Int, _ b: Int = 0, _ c: Int = 0) -> UInt64 {
        var h = FIBSEMVolume.mix(options.seed ^ (stream &* 0xD6E8_FEB8_6659_FD93))
        h = FIBSEMVolume.mix(h ^ UInt64(truncatingIfNeeded: a))
        h = FIBSEMVolume.mix(h ^ UInt64(truncatingIfNeeded: b))
        return FIBSEMVolume.mix(h ^ UInt64(truncatingIfNeeded: c))
    }

    /// An approximately standard normal number from 64 random bits (sum of four 16-bit uniforms,
    /// centred and scaled to unit variance).
    @inline(__always) static func normal(_ bits: UInt64) -> Float {
        let s = Float(bits & 0xFFFF) + Float((bits >> 16) & 0xFFFF) + Float((bits >> 32) & 0xFFFF) + Float(bits >> 48)
        return (s / 65536 - 2) * 1.7320508
    }

    /// Matrix texture: value noise on a 4-pixel lattice, per plane (smoothstep interpolation).
    func texture(x: Int, y: Int, z: Int) -> Float {
        let gx = x >> 2, gy = y >> 2
        let fx = Float(x & 3) / 4, fy = Float(y & 3) / 4
        let sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy)
        func v(_ i: Int, _ j: Int) -> Float { FIBSEMVolume.normal(hash(2, i, j, z)) }
        let top = v(gx, gy) * (1 - sx) + v(gx + 1, gy) * sx
        let bottom = v(gx, gy + 1) * (1 - sx) + v(gx + 1, gy + 1) * sx
        return top * (1 - sy) + bottom * sy
    }

    // MARK: Blocks

    /// The detector images (one channel each, 16-bit) and the truth of a region of the volume.
    /// - Complexity: O(region voxels × objects in the cells it touches), plus a 2-pixel halo for the blur.
    public func block(_ region: Region) -> (detectors: Image<UInt16>, labels: Image<UInt8>) {
        let o = options
        let halo = 2
        let (w, h, d) = (region.width, region.height, region.depth)
        let (hw, hh) = (w + 2 * halo, h + 2 * halo)
        let haloLabels = labels(x: region.x - halo, y: region.y - halo, z: region.z, width: hw, height: hh, depth: d)
        var truth = [UInt8](repeating: 0, count: w * h * d)
        for z in 0..<d { for y in 0..<h { for x in 0..<w { truth[(z * h + y) * w + x] = haloLabels[(z * hh + y + halo) * hw + x + halo] } } }
        let kernel: [Float] = { let k = (-2...2).map { Float(exp(-Double($0 * $0) / (2 * 0.8 * 0.8))) }; let s = k.reduce(0, +); return k.map { $0 / s } }()
        var pixels = [UInt16](repeating: 0, count: w * h * d * o.channels)
        var clean = [Float](repeating: 0, count: hw * hh), across = [Float](repeating: 0, count: w * hh)
        for detector in 0..<o.channels {
            let levels = FIBSEMPhantom.phaseIntensity[detector]
            let curtainScale: Float = detector == 0 ? 1 : 0.6
            let noiseSigma = Float((detector == 0 ? 0.05 : 0.08) * o.noise)
            let angle = Double(hash(10 + UInt64(detector), 0) >> 11) * 0x1.0p-53 * 2 * Double.pi
            let (ga, gb) = (cos(angle), sin(angle))
            for z in 0..<d {
                let gz = region.z + z
                for y in 0..<hh {
                    for x in 0..<hw {
                        let label = haloLabels[(z * hh + y) * hw + x]
                        var v = levels[Int(label) - 1]
                        if detector == 0 && label == 2 { v += 0.03 * texture(x: region.x - halo + x, y: region.y - halo + y, z: gz) }
                        clean[y * hw + x] = v
                    }
                }
                for y in 0..<hh { for x in 0..<w {
                    var s: Float = 0
                    for k in 0..<5 { s += kernel[k] * clean[y * hw + x + k] }
                    across[y * w + x] = s
                } }
                var offsets = [Float](repeating: 0, count: w)
                for x in 0..<w {
                    let gx = region.x + x
                    let persistent = FIBSEMVolume.normal(hash(100, gx)), fresh = FIBSEMVolume.normal(hash(1000, gz, gx))
                    offsets[x] = (0.5 * persistent + 0.866 * fresh) * Float(FIBSEMPhantom.curtainSigma * o.curtaining) * curtainScale
                }
                for y in 0..<h {
                    let gy = region.y + y
                    let growth = Float(0.3 + 0.7 * Double(gy) / Double(max(1, o.height - 1)))
                    for x in 0..<w {
                        let gx = region.x + x
                        var s: Float = 0
                        for k in 0..<5 { s += kernel[k] * across[(y + k) * w + x] }
                        let t = (Double(gx) / Double(o.width) - 0.5) * ga + (Double(gy) / Double(o.height) - 0.5) * gb
                        var v = s * Float(1 + 0.3 * o.shading * t) + offsets[x] * growth
                        v += noiseSigma * FIBSEMVolume.normal(hash(20 + UInt64(detector), gz, gy, gx))
                        pixels[((detector * d + z) * h + y) * w + x] = UInt16(max(0, min(65535, (v * 40000 + 8000).rounded())))
                    }
                }
            }
        }
        let shape = Shape(width: w, height: h, depth: d, channels: o.channels)
        let spacing = Spacing(x: o.voxelSize.x, y: o.voxelSize.y, z: o.voxelSize.z, unit: "nm")
        return (Image(shape: shape, pixels: pixels, spacing: spacing), Image(shape: shape.singleChannel, pixels: truth, spacing: spacing))
    }

    /// What ``write(to:zarr:progress:)`` wrote.
    public struct Summary: Sendable {
        /// Voxels of each phase 1…4.
        public var phaseCounts: [Int]
        /// Resolution levels written (the full resolution included).
        public var levels: Int
    }

    /// Writes the volume as an OME-Zarr image (`c` = detectors when 2, `z`, `y`, `x`; uint16) with
    /// the truth (uint8, classes named) in `labels/truth`, chunk by chunk, then both pyramids.
    /// - Throws: ``ZarrError`` when the store cannot be written.
    /// - Complexity: O(voxels) in parallel chunk batches, then the pyramids; memory a few chunks per thread.
    public func write(to path: String, zarr: OMEZarrWriteOptions, progress: CleaveCore.Progress = .silent) throws -> Summary {
        let o = options
        let shape = Shape(width: o.width, height: o.height, depth: o.depth, channels: o.channels)
        let spacing = Spacing(x: o.voxelSize.x, y: o.voxelSize.y, z: o.voxelSize.z, unit: "nm")
        let image = try OMEZarrWriter(path: path, shape: shape, pixelType: .uint16, spacing: spacing, options: zarr,
                                      name: OMEZarrWriter.imageName(path))
        let truth = try image.labelWriter(name: "truth", pixelType: .uint8,
                                          classes: FIBSEMPhantom.classNames.enumerated().map { ($0.offset + 1, $0.element) })
        let chunks = image.levels[0].metadata.chunks
        let n = chunks.count
        let blocks = Region.tiles(covering: shape, blockWidth: chunks[n - 1], blockHeight: chunks[n - 2], blockDepth: o.depth > 1 ? chunks[n - 3] : 1)
        let batch = max(1, Parallel.threadCount * 2)
        var counts = [Int](repeating: 0, count: 4)
        var start = 0
        while start < blocks.count {
            let part = Array(blocks[start..<min(blocks.count, start + batch)])
            var partCounts = [[Int]](repeating: [0, 0, 0, 0], count: part.count)
            try partCounts.withUnsafeMutableBufferPointer { slots in
                let slotsBox = UncheckedSendable(slots)
                try Parallel.forEachThrowing(part.count) { i in
                    let region = part[i]
                    let (detectors, labels) = self.block(region)
                    var c = [0, 0, 0, 0]
                    for v in labels.pixels { c[Int(v) - 1] += 1 }
                    slotsBox.value[i] = c
                    try image.write(detectors, at: (region.x, region.y, region.z))
                    try truth.write(labels, at: (region.x, region.y, region.z))
                }
            }
            for c in partCounts { for k in 0..<4 { counts[k] += c[k] } }
            start += part.count
            progress.report(start, blocks.count, "generating \(path)")
        }
        try image.buildPyramid(progress: progress)
        try truth.buildPyramid(progress: progress)
        return Summary(phaseCounts: counts, levels: image.levels.count)
    }
}

