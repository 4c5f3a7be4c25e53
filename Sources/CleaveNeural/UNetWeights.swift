/// A snapshot of a U-Net: its architecture and every named array (convolution weights and
/// biases, normalisation scales and shifts, batch-norm running statistics).
///
/// Names follow the layer path, e.g. `encoder0.conv1.weight` ([Co, Ci, 3, 3]),
/// `decoder1.up.weight`, `encoder2.norm2.running_var`, `head.bias`; shapes follow PyTorch's layouts.
public struct UNetWeights: Codable, Sendable, Equatable {
    /// One named array with its shape (row-major, last index fastest).
    public struct NamedArray: Codable, Sendable, Equatable {
        /// The layer path and array, e.g. `encoder0.conv1.weight`.
        public var name: String
        /// The array's shape in PyTorch's layout.
        public var shape: [Int]
        /// The values, row-major (last index fastest); count = product of `shape`.
        public var values: [Float]
        /// A named array (the count of `values` is checked when a ``UNet`` loads it).
        public init(name: String, shape: [Int], values: [Float]) {
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    /// The architecture the arrays belong to.
    public var configuration: UNetConfiguration
    /// Arrays in the network's fixed order.
    public var arrays: [NamedArray]

    /// Weights of `configuration`; ``UNet/init(weights:)`` checks names, order and shapes.
    public init(configuration: UNetConfiguration, arrays: [NamedArray]) {
        self.configuration = configuration
        self.arrays = arrays
    }

    /// The array called `name`, if any.
    public subscript(name: String) -> NamedArray? {
        arrays.first { $0.name == name }
    }
}
