import CleaveCore

/// How a volume is cut into output blocks for a resumable, shareable run.
///
/// Blocks are boxes on the output's chunk grid (every block holds whole chunks, the last ones
/// along an axis end at the volume's edge), numbered x fastest, then y, then z. Each block is
/// computed from the input box grown by the method's halo (clipped to the volume), so blocks can
/// be computed in any order, by any process, and the result does not depend on the block size.
///
/// ```
///   ┌────────┬────────┬────┐   block side = blockSize rounded up to whole chunks
///   │ 0      │ 1      │ 2  │   block depth = whole chunks covering the z-halo (≥ one chunk)
///   ├────────┼────────┼────┤   halo: read around a block, never written
///   │ 3      │ 4      │ 5  │
///   └────────┴────────┴────┘
/// ```
public struct BlockPlan: Sendable, Equatable {
    /// The volume's spatial shape (one channel).
    public let shape: Shape
    /// Block extents (multiples of the chunk extents, clipped to the volume).
    public let blockWidth: Int, blockHeight: Int, blockDepth: Int
    /// Context read around each block, per axis.
    public let haloX: Int, haloY: Int, haloZ: Int
    /// The blocks, x fastest, then y, then z.
    public let blocks: [Region]

    /// - Parameters:
    ///   - shape: the volume (channels are ignored).
    ///   - chunk: the output's chunk extents (x, y, z).
    ///   - blockSize: wanted block side in x and y, in pixels (rounded up to whole chunks).
    ///   - halo: the method's context per axis.
    ///   - method: names the method in messages ("the forest's filters").
    ///   - depth: wanted block depth in planes (rounded up to whole chunks, at least the z-halo);
    ///     nil: the fewest whole chunks that cover the z-halo.
    /// - Throws: ``BlockRunError/blockSmallerThanHalo(field:blockSize:halo:method:)`` when
    ///   `blockSize` is smaller than the x or y halo.
    public init(shape: Shape, chunk: (x: Int, y: Int, z: Int), blockSize: Int, halo: (x: Int, y: Int, z: Int),
                method: String, depth: Int? = nil) throws {
        precondition(chunk.x >= 1 && chunk.y >= 1 && chunk.z >= 1, "BlockPlan: chunk extents must be >= 1, got \(chunk)")
        let widest = max(halo.x, halo.y)
        guard blockSize >= max(1, widest) else {
            throw BlockRunError.blockSmallerThanHalo(field: "blockSize", blockSize: blockSize, halo: widest, method: method)
        }
        func roundUp(_ v: Int, _ m: Int) -> Int { (v + m - 1) / m * m }
        let spatial = shape.singleChannel
        self.shape = spatial
        blockWidth = min(roundUp(blockSize, chunk.x), roundUp(spatial.width, chunk.x))
        blockHeight = min(roundUp(blockSize, chunk.y), roundUp(spatial.height, chunk.y))
        blockDepth = min(roundUp(max(1, halo.z, depth ?? 1), chunk.z), roundUp(spatial.depth, chunk.z))
        haloX = halo.x; haloY = halo.y; haloZ = halo.z
        blocks = Region.tiles(covering: spatial, blockWidth: blockWidth, blockHeight: blockHeight, blockDepth: blockDepth)
    }

    /// The input box block `index` is computed from: the block grown by the halo, clipped to the volume.
    public func readRegion(_ index: Int) -> Region {
        let b = blocks[index]
        return Region(x: b.x - haloX, y: b.y - haloY, z: b.z - haloZ, width: b.width + 2 * haloX,
                      height: b.height + 2 * haloY, depth: b.depth + 2 * haloZ).intersection(Region(covering: shape))
    }
}

/// Share `index` of `count` of a plan's blocks (`--blocks i/N`): the blocks whose number is
/// `index` modulo `count`, so shares are disjoint, cover every block together and are balanced
/// over the volume (neighbouring blocks go to different shares).
public struct BlockShare: Sendable, Equatable, CustomStringConvertible {
    /// This share's number, 0..<``count``.
    public let index: Int
    /// Number of shares (N ≥ 1).
    public let count: Int

    /// - Throws: ``BlockRunError/invalidShare(field:value:reason:)`` unless 0 ≤ index < count.
    public init(index: Int, count: Int) throws {
        guard count >= 1, index >= 0, index < count else {
            throw BlockRunError.invalidShare(field: "blocks", value: "\(index)/\(count)",
                                             reason: "needs i/N with N ≥ 1 and 0 ≤ i < N (shares are numbered from 0)")
        }
        self.index = index
        self.count = count
    }

    /// Parses `i/N`.
    /// - Throws: ``BlockRunError/invalidShare(field:value:reason:)``.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw BlockRunError.invalidShare(field: "blocks", value: text, reason: "expected i/N, e.g. 0/4 for the first of four shares")
        }
        try self.init(index: i, count: n)
    }

    /// The block numbers of this share among `blockCount` blocks, ascending.
    public func blocks(of blockCount: Int) -> [Int] {
        Array(stride(from: index, to: blockCount, by: count))
    }

    /// `i/N`, as `--blocks` takes it.
    public var description: String { "\(index)/\(count)" }
}
