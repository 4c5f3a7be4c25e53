import CleaveCore

/// Normalisation after each 3×3 convolution.
public enum Normalization: Codable, Sendable, Equatable {
    /// Batch normalisation (batch statistics in training, running statistics in inference).
    case batch
    /// Group normalisation with the given number of groups (must divide every level's width).
    case group(Int)
    /// No normalisation (the convolutions then carry a bias).
    case none
}

/// How the decoder doubles the resolution.
public enum Upsampling: Codable, Sendable, Equatable {
    /// ×2 bilinear up-sampling (align_corners = false) followed by a 3×3 convolution halving the width.
    case bilinear
    /// 2×2 transposed convolution, stride 2, halving the width.
    case transposed
}

/// The architecture of a U-Net.
///
/// Level ℓ (0 ..< depth) has width `baseWidth · 2^ℓ`; each level is two (3×3 conv → norm → ReLU)
/// blocks; 2×2 max pooling goes down, up-sampling + concatenation with the skip goes up; a final
/// 1×1 convolution gives `classes` logits.
public struct UNetConfiguration: Codable, Sendable, Equatable {
    /// Channels of the input tensor (detectors, neighbouring slices, …).
    public var inputChannels: Int
    /// Output classes (logit channels of the final 1×1 convolution).
    public var classes: Int
    /// Number of resolution levels including the bottleneck (1 = no down-sampling).
    public var depth: Int
    /// Channels of the first level.
    public var baseWidth: Int
    /// Normalisation after each 3×3 convolution.
    public var normalization: Normalization
    /// How the decoder doubles the resolution.
    public var upsampling: Upsampling
    /// Dropout rate at the bottleneck in training, in [0, 1).
    public var dropout: Float

    /// An architecture; ``validate()`` checks it (a ``UNet`` built from it does so itself).
    public init(inputChannels: Int, classes: Int, depth: Int = 4, baseWidth: Int = 16,
                normalization: Normalization = .batch, upsampling: Upsampling = .bilinear, dropout: Float = 0) {
        self.inputChannels = inputChannels
        self.classes = classes
        self.depth = depth
        self.baseWidth = baseWidth
        self.normalization = normalization
        self.upsampling = upsampling
        self.dropout = dropout
    }

    /// Input height and width must be multiples of this (2^(depth−1)).
    public var sizeMultiple: Int { 1 << max(0, depth - 1) }

    /// Channels of level `level`.
    public func width(level: Int) -> Int { baseWidth << level }

    /// Checks that the architecture can be built.
    /// - Throws: ``UNetError/invalidConfiguration(field:value:reason:)`` naming the field and why.
    public func validate() throws(UNetError) {
        func fail(_ field: String, _ value: Any, _ reason: String) -> UNetError {
            .invalidConfiguration(field: field, value: String(describing: value), reason: reason)
        }
        if inputChannels < 1 || inputChannels > 4096 { throw fail("inputChannels", inputChannels, "must be in 1...4096") }
        if classes < 1 || classes > 4096 { throw fail("classes", classes, "must be in 1...4096") }
        if depth < 1 || depth > 8 { throw fail("depth", depth, "must be in 1...8") }
        if baseWidth < 1 || baseWidth > 1024 { throw fail("baseWidth", baseWidth, "must be in 1...1024") }
        if baseWidth << (depth - 1) > 8192 { throw fail("baseWidth", baseWidth, "baseWidth·2^(depth−1) = \(baseWidth << (depth - 1)) channels is too wide (max 8192)") }
        if !(dropout >= 0 && dropout < 1) { throw fail("dropout", dropout, "must be in [0, 1)") }
        if case .group(let groups) = normalization {
            if groups < 1 { throw fail("normalization", "group(\(groups))", "group normalisation needs at least 1 group") }
            if baseWidth % groups != 0 {
                throw fail("baseWidth", baseWidth, "group normalisation with \(groups) groups needs baseWidth divisible by \(groups)")
            }
        }
    }
}
