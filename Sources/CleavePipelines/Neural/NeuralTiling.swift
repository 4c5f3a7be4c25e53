import CleaveCore
import CleaveNeural
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a plane is cut into tiles for inference.
///
/// Each tile keeps `tileSize` pixels per axis and is computed on that area grown by `halo` pixels
/// of context (clipped at the image edge, aligned to the network's size multiple). Neighbouring
/// kept areas overlap by `overlap` pixels and are blended with raised-cosine weights
/// (sin² up, cos² down, summing to exactly 1), so there are no seams:
///
/// ```
///  tile i   kept ────────────────╮cos²
///  tile i+1                 sin²╭──────────── kept
///                          |overlap|
/// ```
///
/// With a halo at least the network's receptive radius, every kept pixel sees exactly the context
/// it sees in whole-image inference, so tiled and whole-image results agree to float rounding.
public struct NeuralTiling: Sendable, Equatable {
    /// Kept pixels per tile and axis (≥ 16; rounded down to the network's size multiple); an axis no longer than that is one tile.
    public var tileSize: Int
    /// Pixels by which neighbouring kept areas overlap and are blended (0…tileSize / 4).
    public var overlap: Int
    /// Context in pixels computed around each kept area and then dropped (≥ 0; at least the network's receptive radius for seamless results).
    public var halo: Int

    /// A tiling; the ranges above are preconditions.
    public init(tileSize: Int = 1024, overlap: Int = 32, halo: Int) {
        precondition(tileSize >= 16 && overlap >= 0 && overlap * 4 <= tileSize && halo >= 0,
                     "NeuralTiling: tileSize \(tileSize) ≥ 16, overlap \(overlap) ≤ tileSize/4, halo \(halo) ≥ 0")
        self.tileSize = tileSize
        self.overlap = overlap
        self.halo = halo
    }

    /// One tile along one axis: the kept span, the computed span and the kept weights.
    struct Segment: Equatable {
        var kept: Range<Int>
        var computed: Range<Int>
        var weights: [Float] // one per kept position
    }

    /// Tiles along an axis of `length` pixels (a multiple of `multiple`).
    func segments(length: Int, multiple: Int) -> [Segment] {
        let size = max(multiple, tileSize / multiple * multiple)
        var kept: [Range<Int>] = []
        if length <= size {
            kept = [0..<length]
        } else {
            var start = 0
            while true {
                let end = min(start + size, length)
                kept.append(start..<end)
                if end == length { break }
                start = end - overlap
            }
        }
        return kept.map { span in
            let a = max(0, span.lowerBound - halo) / multiple * multiple
            let b = min(length, (span.upperBound + halo + multiple - 1) / multiple * multiple)
            var weights = [Float](repeating: 1, count: span.count)
            if overlap > 0 {
                for x in span {
                    var w = 1.0
                    if span.lowerBound > 0 && x < span.lowerBound + overlap {
                        let s = sin(Double.pi / 2 * (Double(x - span.lowerBound) + 0.5) / Double(overlap))
                        w *= s * s
                    }
                    if span.upperBound < length && x >= span.upperBound - overlap {
                        let c = cos(Double.pi / 2 * (Double(x - (span.upperBound - overlap)) + 0.5) / Double(overlap))
                        w *= c * c
                    }
                    weights[x - span.lowerBound] = Float(w)
                }
            }
            return Segment(kept: span, computed: a..<b, weights: weights)
        }
    }

    /// Class probabilities of a whole plane, `classCount × height × width`, from a function that
    /// maps a network input tile (`1 × C × h × w`, h and w multiples of `multiple`) to probabilities
    /// (`1 × classCount × h × w`).
    ///
    /// The plane is first mirrored out to multiples of `multiple` on the right and bottom (whole-image
    /// inference does the same), then cut into tiles (see the type's description).
    /// - Complexity: one `forward` call per tile, on (tileSize + 2 · halo)² pixels at most; the blend
    ///   O(classes × pixels).
    public func probabilities(of plane: NeuralPlane, classCount: Int, multiple: Int,
                              forward: (Tensor) throws -> Tensor) rethrows -> [Float] {
        let width = plane.width, height = plane.height
        let paddedWidth = (width + multiple - 1) / multiple * multiple
        let paddedHeight = (height + multiple - 1) / multiple * multiple
        let columns = segments(length: paddedWidth, multiple: multiple)
        let rows = segments(length: paddedHeight, multiple: multiple)
        var accumulated = [Float](repeating: 0, count: classCount * width * height)
        let C = plane.channels
        for row in rows {
            for column in columns {
                let w = column.computed.count, h = row.computed.count
                var tile = Tensor(batch: 1, channels: C, height: h, width: w)
                for c in 0..<C {
                    let base = c * width * height
                    for y in 0..<h {
                        let sy = NeuralInputSpec.reflectedPlane(row.computed.lowerBound + y, depth: height)
                        let out = (c * h + y) * w
                        for x in 0..<w {
                            let sx = NeuralInputSpec.reflectedPlane(column.computed.lowerBound + x, depth: width)
                            tile.storage[out + x] = plane.values[base + sy * width + sx]
                        }
                    }
                }
                let result = try forward(tile)
                precondition(result.channels == classCount && result.height == h && result.width == w,
                             "NeuralTiling: forward gave \(result.channels)×\(result.height)×\(result.width), expected \(classCount)×\(h)×\(w)")
                for y in row.kept where y < height {
                    let wy = row.weights[y - row.kept.lowerBound]
                    let ty = y - row.computed.lowerBound
                    for x in column.kept where x < width {
                        let weight = wy * column.weights[x - column.kept.lowerBound]
                        let tx = x - column.computed.lowerBound
                        for k in 0..<classCount {
                            accumulated[(k * height + y) * width + x] += weight * result.storage[(k * h + ty) * w + tx]
                        }
                    }
                }
            }
        }
        return accumulated
    }
}
