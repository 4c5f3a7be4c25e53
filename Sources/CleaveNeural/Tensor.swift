/// A dense 4-D Float tensor in NCHW order (batch, channel, row, column; column fastest) —
/// the one array type of Cleave's CPU neural-network engine.
public struct Tensor: Sendable, Equatable {
    /// Images in the batch (N).
    public private(set) var batch: Int
    /// Channels per image (C).
    public private(set) var channels: Int
    /// Rows per channel plane (H).
    public private(set) var height: Int
    /// Columns per channel plane (W).
    public private(set) var width: Int
    /// The N × C × H × W values, column fastest; its count never changes after initialisation.
    public var storage: [Float]

    /// A tensor of zeros (or `value`) with the given shape.
    public init(batch: Int, channels: Int, height: Int, width: Int, value: Float = 0) {
        precondition(batch >= 0 && channels >= 0 && height >= 0 && width >= 0, "negative tensor dimension")
        self.batch = batch
        self.channels = channels
        self.height = height
        self.width = width
        self.storage = [Float](repeating: value, count: batch * channels * height * width)
    }

    /// A tensor wrapping `storage` (count must be batch × channels × height × width).
    public init(batch: Int, channels: Int, height: Int, width: Int, storage: [Float]) {
        precondition(storage.count == batch * channels * height * width, "tensor storage does not match its shape")
        self.batch = batch
        self.channels = channels
        self.height = height
        self.width = width
        self.storage = storage
    }

    /// Number of values (N · C · H · W).
    public var count: Int { storage.count }
    /// Values in one channel plane (H · W).
    public var planeSize: Int { height * width }

    /// Flat index of (n, c, y, x).
    @inlinable
    public func index(_ n: Int, _ c: Int, _ y: Int, _ x: Int) -> Int {
        ((n * channels + c) * height + y) * width + x
    }

    /// The value at (n, c, y, x); indices are not checked beyond the array's own bounds check.
    public subscript(n: Int, c: Int, y: Int, x: Int) -> Float {
        get { storage[index(n, c, y, x)] }
        set { storage[index(n, c, y, x)] = newValue }
    }
}
