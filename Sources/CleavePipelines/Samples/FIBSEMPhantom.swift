import CleaveCore
import CleaveFilters
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A seeded FIB-SEM-like volume with ground truth: a labelled 3D phantom of four phases rendered
/// as two detector channels with different contrast, curtaining, shading and noise.
///
/// 1. **Phases** (label values): 1 pore (dark in both detectors), 2 matrix, 3 grains and
///    4 bright inclusions. Grains, pores and inclusions are randomly oriented ellipsoids that
///    extend over several slices, so neighbouring slices carry information about each other.
/// 2. **Detectors**: an in-lens secondary-electron-like channel where matrix and grains differ
///    only a little (and the matrix has a fine texture), and a back-scatter-like channel where
///    grains are darker than the matrix but the noise is higher. Neither alone separates all
///    phases well; together they do.
/// 3. **Curtaining**: per-column additive offsets (vertical stripes, constant along a column),
///    Gaussian with σ = 0.08 × the phase contrast range × ``Options/curtaining``, growing from
///    0.3× at the top row to 1× at the bottom. Each slice mixes a persistent pattern with a fresh
///    one (curtains change as milling proceeds); the back-scatter channel sees 0.6× of it.
/// 4. **Shading**: a multiplicative gradient (× 0.85 … × 1.15 along a random direction per
///    detector) and **noise** (Gaussian, σ = 0.05 / 0.08 × range × ``Options/noise``).
///
/// Intensities are stored as 16-bit: `value × 40000 + 8000`, clamped.
public struct FIBSEMPhantom: Sendable {
    /// Generation parameters.
    public struct Options: Sendable, Codable, Equatable {
        /// Slice width in pixels (32…8192).
        public var width: Int
        /// Slice height in pixels (32…8192).
        public var height: Int
        /// Number of slices.
        public var depth: Int
        /// Seed of every random choice: the same options give the same voxels everywhere.
        public var seed: UInt64
        /// Curtaining strength multiplier (0 = none, 1 = default).
        public var curtaining: Double
        /// Noise strength multiplier (0 = none, 1 = default).
        public var noise: Double
        /// Shading strength multiplier (0 = none, 1 = default).
        public var shading: Double
        /// Planes whose truth is copied into `train-labels.tif` (default: depth/4, depth/2, 3·depth/4).
        public var labelledPlanes: [Int]?

        /// Options; the defaults give a 256 × 256 × 24 volume with every artefact at its default strength.
        /// ``validate()`` checks them (``FIBSEMPhantom/generate(_:)`` calls it).
        public init(width: Int = 256, height: Int = 256, depth: Int = 24, seed: UInt64 = 1, curtaining: Double = 1,
                    noise: Double = 1, shading: Double = 1, labelledPlanes: [Int]? = nil) {
            self.width = width; self.height = height; self.depth = depth; self.seed = seed
            self.curtaining = curtaining; self.noise = noise; self.shading = shading
            self.labelledPlanes = labelledPlanes
        }

        /// The planes labelled for training.
        public var trainingPlanes: [Int] {
            labelledPlanes ?? Array(Set([depth / 4, depth / 2, (3 * depth) / 4])).sorted()
        }

        /// - Throws: ``SampleError`` naming the option and why.
        public func validate() throws {
            guard width >= 32, width <= 8192, height >= 32, height <= 8192 else {
                throw SampleError.invalidOption(field: width >= 32 && width <= 8192 ? "height" : "width", value: "\(width >= 32 && width <= 8192 ? height : width)", reason: "width and height must be 32…8192 pixels")
            }
            guard depth >= 1, depth <= 2048, width * height * depth <= 1 << 30 else {
                throw SampleError.invalidOption(field: "depth", value: "\(depth)", reason: "must be 1…2048 slices and at most 2^30 voxels in total")
            }
            for (name, v) in [("curtaining", curtaining), ("noise", noise), ("shading", shading)] where !(v >= 0 && v <= 10) {
                throw SampleError.invalidOption(field: name, value: "\(v)", reason: "must be 0…10")
            }
            for z in trainingPlanes where z < 0 || z >= depth {
                throw SampleError.invalidOption(field: "labelledPlanes", value: "\(z)", reason: "outside the \(depth) slices")
            }
        }
    }

    /// Names of the label values 1…4.
    public static let classNames = ["pore", "matrix", "grain", "inclusion"]
    /// Noise-free intensity of each phase (index = label − 1) in each detector (0…1).
    public static let phaseIntensity: [[Float]] = [
        [0.12, 0.50, 0.58, 0.85], // in-lens SE: matrix/grain barely differ
        [0.08, 0.55, 0.36, 0.95], // back-scatter: grains darker than matrix
    ]
    /// Standard deviation of the curtaining offsets before the top-to-bottom growth, relative to the range.
    public static let curtainSigma = 0.08

    /// The options the volume was generated with.
    public let options: Options
    /// Truth labels 1…4, width × height × depth.
    public let labels: Image<UInt8>
    /// The two detector channels, 16-bit.
    public let detectors: [Image<UInt16>]

    /// Truth restricted to ``Options/trainingPlanes`` (0 elsewhere): what a user would label.
    public var trainingLabels: Image<UInt8> {
        var out = Image<UInt8>(shape: labels.shape)
        let planeSize = labels.shape.planeSize
        for z in options.trainingPlanes {
            for i in 0..<planeSize { out.pixels[z * planeSize + i] = labels.pixels[z * planeSize + i] }
        }
        return out
    }

    /// Generates a volume. Same options → same voxels on every machine and thread count.
    /// - Throws: ``SampleError`` for invalid options.
    /// - Complexity: O(width × height × depth) time and memory (labels and two detectors).
    public static func generate(_ options: Options) throws -> FIBSEMPhantom {
        try options.validate()
        let w = options.width, h = options.height, d = options.depth
        let shape = Shape(width: w, height: h, depth: d)
        var labels = [UInt8](repeating: 2, count: shape.count)
        var random = SeededGenerator(seed: options.seed)
        let area = Double(w * h)
        // Objects scale with the slice area; z radii in slices.
        func paint(_ value: UInt8, count: Int, radius: ClosedRange<Double>, zRadius: ClosedRange<Double>) {
            for _ in 0..<count {
                let cx = random.nextDouble() * Double(w), cy = random.nextDouble() * Double(h)
                let cz = random.nextDouble() * Double(d)
                let a = radius.lowerBound + random.nextDouble() * (radius.upperBound - radius.lowerBound)
                let b = a * (0.55 + 0.45 * random.nextDouble())
                let c = zRadius.lowerBound + random.nextDouble() * (zRadius.upperBound - zRadius.lowerBound)
                let angle = random.nextDouble() * Double.pi
                let wobble = 0.12 * random.nextDouble(), lobes = Double(2 + random.next(below: 4))
                let phase = random.nextDouble() * 2 * Double.pi
                let (ca, sa) = (cos(angle), sin(angle))
                let reach = a * (1 + wobble)
                let x0 = max(0, Int(cx - reach)), x1 = min(w - 1, Int(cx + reach))
                let y0 = max(0, Int(cy - reach)), y1 = min(h - 1, Int(cy + reach))
                let z0 = max(0, Int(cz - c)), z1 = min(d - 1, Int(cz + c))
                guard x0 <= x1, y0 <= y1, z0 <= z1 else { continue }
                for z in z0...z1 {
                    let dz = (Double(z) + 0.5 - cz) / c
                    let rz = 1 - dz * dz
                    if rz <= 0 { continue }
                    for y in y0...y1 {
                        for x in x0...x1 {
                            let dx = Double(x) + 0.5 - cx, dy = Double(y) + 0.5 - cy
                            let u = (dx * ca + dy * sa) / a, v = (-dx * sa + dy * ca) / b
                            let theta = atan2(v, u)
                            let scale = 1 + wobble * sin(lobes * theta + phase)
                            if u * u + v * v <= rz * scale * scale { labels[shape.index(column: x, row: y, plane: z)] = value }
                        }
                    }
                }
            }
        }
        let scale = area / (256 * 256)
        let zScale = max(1.0, Double(d) / 24)
        paint(3, count: max(1, Int((40 * scale * zScale).rounded())), radius: 12...30, zRadius: 4...10)
        paint(1, count: max(1, Int((60 * scale * zScale).rounded())), radius: 6...16, zRadius: 3...7)
        paint(4, count: max(1, Int((80 * scale * zScale).rounded())), radius: 3...7, zRadius: 2...4)

        // Matrix texture (in-lens channel): smoothed white noise, one field for the volume.
        var textureRandom = SeededGenerator.stream(seed: options.seed, index: 1)
        var texture = Image<Float>(shape: shape)
        for i in 0..<shape.count { texture.pixels[i] = Float(textureRandom.nextGaussian()) }
        texture = gaussian(texture, sigma: Sigma(x: 1.5, y: 1.5, z: 0), boundary: .reflect)
        let textureStd = Float(0.6 / 0.19) // smoothing by σ = 1.5 leaves std ≈ 0.19; rescale to ~0.6

        var detectors: [Image<UInt16>] = []
        for detector in 0..<2 {
            var rng = SeededGenerator.stream(seed: options.seed, index: 10 + detector)
            let levels = phaseIntensity[detector]
            var clean = Image<Float>(shape: shape)
            for i in 0..<shape.count {
                var v = levels[Int(labels[i]) - 1]
                if detector == 0 && labels[i] == 2 { v += 0.03 * textureStd * texture.pixels[i] }
                clean.pixels[i] = v
            }
            // Edges blur with the probe size.
            clean = gaussian(clean, sigma: Sigma(x: 0.8, y: 0.8, z: 0), boundary: .reflect)
            let curtainScale: Float = detector == 0 ? 1 : 0.6
            let noiseSigma = (detector == 0 ? 0.05 : 0.08) * options.noise
            let angle = rng.nextDouble() * 2 * Double.pi
            let (ga, gb) = (cos(angle), sin(angle))
            var persistent = [Float](repeating: 0, count: w)
            var curtainRandom = SeededGenerator.stream(seed: options.seed, index: 100)
            for x in 0..<w { persistent[x] = Float(curtainRandom.nextGaussian()) }
            var out = [UInt16](repeating: 0, count: shape.count)
            for z in 0..<d {
                // Curtains are shared by both detectors (they are topography), so draw them from a
                // stream that depends on the plane only.
                var planeRandom = SeededGenerator.stream(seed: options.seed, index: 1000 + z)
                var offsets = [Float](repeating: 0, count: w)
                for x in 0..<w {
                    let fresh = Float(planeRandom.nextGaussian())
                    offsets[x] = (0.5 * persistent[x] + 0.866 * fresh) * Float(curtainSigma * options.curtaining) * curtainScale
                }
                for y in 0..<h {
                    let growth = Float(0.3 + 0.7 * Double(y) / Double(max(1, h - 1)))
                    for x in 0..<w {
                        let i = shape.index(column: x, row: y, plane: z)
                        let t = ((Double(x) / Double(w) - 0.5) * ga + (Double(y) / Double(h) - 0.5) * gb)
                        let shade = Float(1 + 0.3 * options.shading * t)
                        var v = clean.pixels[i] * shade + offsets[x] * growth
                        v += Float(noiseSigma * rng.nextGaussian())
                        out[i] = UInt16(max(0, min(65535, (v * 40000 + 8000).rounded())))
                    }
                }
            }
            detectors.append(Image(shape: shape, pixels: out))
        }
        return FIBSEMPhantom(options: options, labels: Image(shape: shape, pixels: labels), detectors: detectors)
    }

    private init(options: Options, labels: Image<UInt8>, detectors: [Image<UInt16>]) {
        self.options = options
        self.labels = labels
        self.detectors = detectors
    }
}
