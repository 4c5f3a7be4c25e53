/// A snapshot of a U-Net: its architecture and every named array (convolution weights and
/// biases, normalisation scales and shifts, batch-norm running statistics).
///
/// Names follow the layer path, e.g. `encoder0.conv1.weight` ([Co, Ci, 3, 3]),
/// `decoder1.up.weight`, `encoder2.norm2.running_var`, `head.bias`; shapes follow PyTorch's layouts.
public struct UNetWeights: Codable, Sendable, Equatable {
    /// One named array with its shape (row-major, last index fastest).
    public struct NamedArray: Codable, Sendable, Equatable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]
        public init(name: String, shape: [Int], values: [Float]) {
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    public var configuration: UNetConfiguration
    /// Arrays in the network's fixed order.
    public var arrays: [NamedArray]

    public init(configuration: UNetConfiguration, arrays: [NamedArray]) {
        self.configuration = configuration
        self.arrays = arrays
    }

    /// The array called `name`, if any.
    public subscript(name: String) -> NamedArray? {
        arrays.first { $0.name == name }
    }
}
