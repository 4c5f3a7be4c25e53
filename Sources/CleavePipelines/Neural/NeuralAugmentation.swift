import CleaveCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Training-time augmentation of patches, each kind switchable.
///
/// Geometric changes (flips, 90° rotations) move the image and its labels together. Intensity
/// changes touch the image only and are applied after the geometric ones, so synthetic
/// curtaining always runs along image columns, as FIB curtains run along the ion beam:
///
/// - `intensity`: per detector gain × U(0.8, 1.2) and offset U(−0.1, 0.1) (normalised units, the
///   1–99 % window spans 2);
/// - `shading`: a linear illumination ramp along a random direction, multiplicative up to
///   ×(1 ± 0.3) and additive up to ±0.2;
/// - `curtaining`: per-column offsets, Gaussian with σ up to 0.12 × range, growing from a random
///   0.2–1× at one end of the columns to 1× at the other; each slice gets a mix of a shared and
///   its own pattern; each detector sees 0.5–1× of it;
/// - `noise`: Gaussian (σ up to 0.08 × range) or Poisson-like (σ ∝ √signal).
///
/// Every intensity kind fires with probability ``probability`` per patch (0.4 by default), so about
/// one patch in eight (0.6⁴) is seen free of intensity artefacts. In the sandstone protocol 0.4
/// scored higher on clean slices than 0.6 (0.893 against 0.882) and as well with the artefacts
/// (0.838 against 0.841), see bench/unet/RESULTS.md.
public struct NeuralAugmentation: Codable, Sendable, Equatable {
    /// Mirror left–right with probability ½ (image and labels together).
    public var flips = true
    /// Rotate by 0, 90, 180 or 270° at random (image and labels together).
    public var rotations = true
    /// Per-detector gain and offset (see the type's description).
    public var intensity = true
    /// A linear illumination ramp along a random direction.
    public var shading = true
    /// Synthetic FIB curtains: per-column offsets along image columns.
    public var curtaining = true
    /// Gaussian or Poisson-like noise.
    public var noise = true
    /// Chance that each intensity kind is applied to a patch.
    public var probability = 0.4

    /// Augmentation with the given kinds; by default every kind on, each intensity kind with probability 0.4.
    public init(flips: Bool = true, rotations: Bool = true, intensity: Bool = true, shading: Bool = true,
                curtaining: Bool = true, noise: Bool = true, probability: Double = 0.4) {
        self.flips = flips; self.rotations = rotations; self.intensity = intensity; self.shading = shading
        self.curtaining = curtaining; self.noise = noise; self.probability = probability
    }

    /// No augmentation at all.
    public static let none = NeuralAugmentation(flips: false, rotations: false, intensity: false, shading: false,
                                                curtaining: false, noise: false)
    /// Flips and rotations only.
    public static let geometric = NeuralAugmentation(flips: true, rotations: true, intensity: false, shading: false,
                                                     curtaining: false, noise: false)

    /// Names accepted by ``parse(_:)``.
    public static let kindNames = ["flips", "rotations", "intensity", "shading", "curtaining", "noise"]

    /// Parses `all`, `none`, `geometric` or a comma-separated list of ``kindNames``.
    /// - Throws: ``NeuralError/invalidOption(field:value:reason:)`` naming an unknown kind.
    public static func parse(_ text: String) throws -> NeuralAugmentation {
        switch text.lowercased() {
        case "all", "default": return NeuralAugmentation()
        case "none": return .none
        case "geometric": return .geometric
        default:
            var a = NeuralAugmentation.none
            for part in text.split(separator: ",") {
                switch part.trimmingCharacters(in: .whitespaces).lowercased() {
                case "flips": a.flips = true
                case "rotations": a.rotations = true
                case "intensity": a.intensity = true
                case "shading": a.shading = true
                case "curtaining": a.curtaining = true
                case "noise": a.noise = true
                default: throw NeuralError.invalidOption(field: "augmentation", value: String(part), reason: "unknown kind; use all, none, geometric or a list of \(kindNames.joined(separator: ", "))")
                }
            }
            return a
        }
    }

    /// Augments a square patch in place.
    /// - Parameters:
    ///   - patch: `channels × side × side`, detector-major with `slices` channels per detector.
    ///   - labels: `side × side` class indices (−1 = ignore), moved with the image.
    public func apply(to patch: inout NeuralPlane, labels: inout [Int32], slices: Int, random: inout SeededGenerator) {
        precondition(patch.width == patch.height && labels.count == patch.width * patch.height,
                     "NeuralAugmentation.apply needs a square patch and matching labels")
        let side = patch.width
        if flips || rotations {
            let flip = flips && random.next(below: 2) == 1
            let turns = rotations ? random.next(below: 4) : 0
            if flip || turns != 0 {
                NeuralAugmentation.transform(&patch.values, channels: patch.channels, side: side, flip: flip, turns: turns)
                NeuralAugmentation.transform(&labels, channels: 1, side: side, flip: flip, turns: turns)
            }
        }
        let detectors = patch.channels / slices
        let n = side * side
        if intensity && random.nextDouble() < probability {
            for d in 0..<detectors {
                let gain = Float(0.8 + 0.4 * random.nextDouble()), offset = Float(-0.1 + 0.2 * random.nextDouble())
                for c in (d * slices)..<((d + 1) * slices) {
                    for i in (c * n)..<((c + 1) * n) { patch.values[i] = patch.values[i] * gain + offset }
                }
            }
        }
        if shading && random.nextDouble() < probability {
            let angle = random.nextDouble() * 2 * Double.pi
            let (ca, sa) = (Float(cos(angle)), Float(sin(angle)))
            let multiplicative = Float(0.3 * random.nextDouble()), additive = Float(0.2 * (2 * random.nextDouble() - 1))
            var ramp = [Float](repeating: 0, count: n)
            for y in 0..<side {
                for x in 0..<side {
                    ramp[y * side + x] = 2 * ((Float(x) / Float(side) - 0.5) * ca + (Float(y) / Float(side) - 0.5) * sa)
                }
            }
            for c in 0..<patch.channels {
                // Shade in the 0…1 domain (v + 1) / 2, where a multiplicative gain acts like one on raw intensities.
                for i in 0..<n {
                    let u = (patch.values[c * n + i] + 1) / 2
                    let shaded = u * (1 + multiplicative * ramp[i]) + additive * ramp[i] / 2
                    patch.values[c * n + i] = 2 * shaded - 1
                }
            }
        }
        if curtaining && random.nextDouble() < probability {
            let sigma = Float(0.12 * random.nextDouble()) * 2 // range of the normalised window is 2
            let start = Float(0.2 + 0.8 * random.nextDouble())
            let topToBottom = random.next(below: 2) == 0
            let shared = (0..<side).map { _ in Float(random.nextGaussian()) }
            let mix = Float(random.nextDouble())
            var perSlice: [[Float]] = []
            for _ in 0..<slices {
                perSlice.append((0..<side).map { x in
                    (mix.squareRoot() * shared[x] + (1 - mix).squareRoot() * Float(random.nextGaussian())) * sigma
                })
            }
            for d in 0..<detectors {
                let detectorScale = d == 0 ? Float(1) : Float(0.5 + 0.5 * random.nextDouble())
                for s in 0..<slices {
                    let c = d * slices + s
                    for y in 0..<side {
                        let t = Float(y) / Float(max(1, side - 1))
                        let growth = start + (1 - start) * (topToBottom ? t : 1 - t)
                        let row = c * n + y * side
                        for x in 0..<side { patch.values[row + x] += perSlice[s][x] * growth * detectorScale }
                    }
                }
            }
        }
        if noise && random.nextDouble() < probability {
            let poisson = random.next(below: 2) == 1
            let sigma = Float(0.08 * random.nextDouble()) * 2
            for i in 0..<patch.values.count {
                let g = Float(random.nextGaussian())
                if poisson {
                    let u = max(0, (patch.values[i] + 1) / 2)
                    patch.values[i] += g * sigma * u.squareRoot()
                } else {
                    patch.values[i] += g * sigma
                }
            }
        }
    }

    /// Flips (left–right, before rotating) and rotates by `turns` × 90° counter-clockwise every
    /// `side × side` channel of `values`.
    public static func transform<T>(_ values: inout [T], channels: Int, side: Int, flip: Bool, turns: Int) {
        let n = side * side
        var out = values
        for c in 0..<channels {
            let base = c * n
            for y in 0..<side {
                for x in 0..<side {
                    // Destination (x, y) reads from the source position that maps onto it.
                    var sx = x, sy = y
                    switch turns & 3 {
                    case 1: (sx, sy) = (side - 1 - y, x)
                    case 2: (sx, sy) = (side - 1 - x, side - 1 - y)
                    case 3: (sx, sy) = (y, side - 1 - x)
                    default: break
                    }
                    if flip { sx = side - 1 - sx }
                    out[base + y * side + x] = values[base + sy * side + sx]
                }
            }
        }
        values = out
    }
}
