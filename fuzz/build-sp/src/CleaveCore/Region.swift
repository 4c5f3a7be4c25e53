/// An axis-aligned box of pixels: origin (x, y, z) and extent, in pixel units.
///
/// Regions are how block-by-block code addresses parts of a large image or volume.
public struct Region: Hashable, Sendable, Codable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var z: Int
    public var width: Int
    public var height: Int
    public var depth: Int

    public init(x: Int, y: Int, z: Int = 0, width: Int, height: Int, depth: Int = 1) {
        precondition(width >= 0 && height >= 0 && depth >= 0, "Region needs non-negative extents, got \(width)x\(height)x\(depth)")
        self.x = x; self.y = y; self.z = z
        self.width = width; self.height = height; self.depth = depth
    }

    /// The whole of a shape.
    public init(covering shape: Shape) {
        self.init(x: 0, y: 0, z: 0, width: shape.width, height: shape.height, depth: shape.depth)
    }

    public var pixelCount: Int { width * height * depth }
    public var isEmpty: Bool { pixelCount == 0 }

    /// True when the region lies entirely within `shape`.
    public func isInside(_ shape: Shape) -> Bool {
        x >= 0 && y >= 0 && z >= 0 && x + width <= shape.width && y + height <= shape.height && z + depth <= shape.depth
    }

    /// Intersection with another region (possibly empty).
    public func intersection(_ other: Region) -> Region {
        let x0 = max(x, other.x), y0 = max(y, other.y), z0 = max(z, other.z)
        let x1 = min(x + width, other.x + other.width)
        let y1 = min(y + height, other.y + other.height)
        let z1 = min(z + depth, other.z + other.depth)
        return Region(x: x0, y: y0, z: z0, width: max(0, x1 - x0), height: max(0, y1 - y0), depth: max(0, z1 - z0))
    }

    /// Grows the region by `halo` pixels on every side (z only if `haloZ` > 0), clipped to `shape`.
    public func expanded(by halo: Int, haloZ: Int = 0, within shape: Shape) -> Region {
        Region(x: x - halo, y: y - halo, z: z - haloZ,
               width: width + 2 * halo, height: height + 2 * halo, depth: depth + 2 * haloZ)
            .intersection(Region(covering: shape))
    }

    /// Cuts `shape` into blocks of at most `blockWidth × blockHeight × blockDepth`, row-major
    /// (x fastest, then y, then z). Edge blocks are smaller; the blocks cover the shape exactly once.
    public static func tiles(covering shape: Shape, blockWidth: Int, blockHeight: Int, blockDepth: Int = 1) -> [Region] {
        precondition(blockWidth >= 1 && blockHeight >= 1 && blockDepth >= 1,
                     "Region.tiles needs block extents >= 1, got \(blockWidth)x\(blockHeight)x\(blockDepth)")
        var result: [Region] = []
        var z = 0
        while z < shape.depth {
            let d = min(blockDepth, shape.depth - z)
            var y = 0
            while y < shape.height {
                let h = min(blockHeight, shape.height - y)
                var x = 0
                while x < shape.width {
                    let w = min(blockWidth, shape.width - x)
                    result.append(Region(x: x, y: y, z: z, width: w, height: h, depth: d))
                    x += w
                }
                y += h
            }
            z += d
        }
        return result
    }

    public var description: String {
        depth > 1 || z != 0 ? "(\(x), \(y), \(z)) \(width)×\(height)×\(depth)" : "(\(x), \(y)) \(width)×\(height)"
    }
}
