import Foundation
import CleaveCore
import CleaveNeural

/// Runs a network over whole planes with ``NeuralTiling``.
public struct UNetSegmenter {
    /// The network (not thread-safe: one plane at a time per segmenter).
    public let network: UNet
    /// Output classes of the network.
    public let classCount: Int
    /// Tile sides are multiples of this (2^(depth − 1), the network's poolings).
    public let multiple: Int
    /// How planes are cut into tiles (default 1024-pixel tiles, 32-pixel overlap, halo = the receptive radius).
    public var tiling: NeuralTiling

    /// - Parameter depth: the network's poolings (sets the size multiple and the exact halo).
    public init(network: UNet, classCount: Int, depth: Int, tileSize: Int = 1024, overlap: Int = 32, halo: Int? = nil) {
        self.network = network
        self.classCount = classCount
        self.multiple = network.configuration.sizeMultiple
        self.tiling = NeuralTiling(tileSize: max(tileSize, multiple), overlap: min(overlap, tileSize / 4),
                                   halo: halo ?? UNetSegmenterModel.receptiveRadius(depth: depth))
    }

    /// Loads a model's network.
    public init(model: UNetSegmenterModel, tileSize: Int = 1024, overlap: Int = 32, halo: Int? = nil) throws {
        self.init(network: try UNet(weights: model.weights), classCount: model.classes.count,
                  depth: model.architecture.depth, tileSize: tileSize, overlap: overlap, halo: halo)
    }

    /// Views of the plane averaged at inference: 1 (the plane as it is), 2 (plus its mirror image),
    /// 4 (plus the 180° rotation and the vertical mirror) or 8 (every flip and 90° rotation — the
    /// eight symmetries of the square, the same group the training augmentation draws from).
    /// Probabilities are mapped back to the original orientation and averaged, which evens out the
    /// network's orientation-dependent errors; time grows with the count.
    public var views = 1

    /// Class probabilities `classCount × height × width` of a plane.
    /// - Complexity: O(views × pixels × depth × baseWidth²) multiply-adds, plus the halo recomputed
    ///   around every tile; memory O(classes × pixels) plus one tile's activations.
    public func probabilities(_ plane: NeuralPlane) -> [Float] {
        guard views > 1 else { return oriented(plane) }
        let used = DihedralView.all.prefix(views)
        var sum = [Float](repeating: 0, count: classCount * plane.width * plane.height)
        for view in used {
            let back = view.inverse(of: oriented(view.apply(to: plane)), channels: classCount,
                                    width: plane.width, height: plane.height)
            for i in sum.indices { sum[i] += back[i] }
        }
        let scale = 1 / Float(used.count)
        for i in sum.indices { sum[i] *= scale }
        return sum
    }

    private func oriented(_ plane: NeuralPlane) -> [Float] {
        tiling.probabilities(of: plane, classCount: classCount, multiple: multiple) { tile in
            Loss.softmax(network.forward(tile, training: false))
        }
    }
}

/// One of the eight symmetries of the square acting on channel-major planes: optional transpose
/// (swap x and y), then optional mirror of x and of y.
struct DihedralView: Sendable, Equatable {
    var transpose: Bool
    var flipX: Bool
    var flipY: Bool

    /// Identity first, then the mirror, the 180° rotation and the vertical mirror, then the
    /// transposed four — so any prefix of 1, 2, 4 or 8 is a balanced set.
    static let all: [DihedralView] = [
        DihedralView(transpose: false, flipX: false, flipY: false), DihedralView(transpose: false, flipX: true, flipY: false),
        DihedralView(transpose: false, flipX: true, flipY: true), DihedralView(transpose: false, flipX: false, flipY: true),
        DihedralView(transpose: true, flipX: false, flipY: false), DihedralView(transpose: true, flipX: true, flipY: false),
        DihedralView(transpose: true, flipX: true, flipY: true), DihedralView(transpose: true, flipX: false, flipY: true),
    ]

    /// The viewed plane: output pixel (x, y) of channel c is source pixel `source(x, y)`.
    func apply(to plane: NeuralPlane) -> NeuralPlane {
        let (w, h) = transpose ? (plane.height, plane.width) : (plane.width, plane.height)
        var out = [Float](repeating: 0, count: plane.values.count)
        let n = plane.width * plane.height
        for c in 0..<plane.channels {
            for y in 0..<h {
                for x in 0..<w {
                    let (sx, sy) = source(x, y, width: w, height: h)
                    out[c * n + y * w + x] = plane.values[c * n + sy * plane.width + sx]
                }
            }
        }
        return NeuralPlane(channels: plane.channels, width: w, height: h, values: out)
    }

    /// Maps channel-major values computed on the viewed plane back to the original `width × height`.
    func inverse(of values: [Float], channels: Int, width: Int, height: Int) -> [Float] {
        let (w, h) = transpose ? (height, width) : (width, height)
        var out = [Float](repeating: 0, count: values.count)
        let n = width * height
        for c in 0..<channels {
            for y in 0..<h {
                for x in 0..<w {
                    let (sx, sy) = source(x, y, width: w, height: h)
                    out[c * n + sy * width + sx] = values[c * n + y * w + x]
                }
            }
        }
        return out
    }

    /// Source coordinates (in the original plane) of viewed pixel (x, y) in a `width × height` view.
    @inline(__always)
    private func source(_ x: Int, _ y: Int, width: Int, height: Int) -> (Int, Int) {
        let vx = flipX ? width - 1 - x : x
        let vy = flipY ? height - 1 - y : y
        return transpose ? (vy, vx) : (vx, vy)
    }
}
