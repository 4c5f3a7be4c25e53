import CleaveCore

/// One engine layer behind a `Tensor` interface — the same kernels the ``UNet`` runs — so tests
/// and tools can check a layer on its own (e.g. against finite differences or reference numbers).
public final class LayerProbe {
    /// The layer under test and its sizes.
    public enum Kind: Sendable, Equatable {
        /// 3×3 (padding 1) or 1×1 convolution, stride 1; weight [Co, Ci, k, k].
        case convolution(inputChannels: Int, outputChannels: Int, kernelSize: Int, bias: Bool)
        /// Normalisation then ReLU; parameters `weight` (γ), `bias` (β), batch norm also `running_mean`, `running_var`.
        case normalizedReLU(channels: Int, normalization: Normalization)
        /// 2×2 max pooling, stride 2.
        case maxPool
        /// ×2 bilinear up-sampling, align_corners = false.
        case bilinearUpsample
        /// 2×2 transposed convolution, stride 2; weight [Ci, Co, 2, 2], bias [Co].
        case transposedConvolution(inputChannels: Int, outputChannels: Int)
    }

    /// The layer this probe runs.
    public let kind: Kind
    private let convolution: Convolution?
    private let norm: NormalizedReLU?
    private let pool: MaxPool?
    private let upsample: BilinearUpsample?
    private let transposed: TransposedConvolution?
    private var input = Activation()
    private let gradientBuffer = Activation()

    /// A layer with seeded Kaiming-normal weights (norms start at γ = 1, β = 0).
    public init(_ kind: Kind, seed: UInt64 = 0) {
        self.kind = kind
        var generator = SeededGenerator(seed: seed)
        switch kind {
        case .convolution(let ci, let co, let k, let bias):
            precondition(k == 1 || k == 3, "LayerProbe: kernel size must be 1 or 3")
            let layer = Convolution(name: "", inputChannels: ci, outputChannels: co, kernelSize: k, bias: bias)
            layer.initialize(&generator)
            convolution = layer; norm = nil; pool = nil; upsample = nil; transposed = nil
        case .normalizedReLU(let channels, let normalization):
            norm = NormalizedReLU(name: "", channels: channels, kind: normalization)
            convolution = nil; pool = nil; upsample = nil; transposed = nil
        case .maxPool:
            pool = MaxPool(); convolution = nil; norm = nil; upsample = nil; transposed = nil
        case .bilinearUpsample:
            upsample = BilinearUpsample(); convolution = nil; norm = nil; pool = nil; transposed = nil
        case .transposedConvolution(let ci, let co):
            let layer = TransposedConvolution(name: "", inputChannels: ci, outputChannels: co)
            layer.initialize(&generator)
            transposed = layer; convolution = nil; norm = nil; pool = nil; upsample = nil
        }
    }

    private var parameters: [Parameter] {
        convolution?.parameters ?? norm?.parameters ?? transposed?.parameters ?? []
    }

    private func parameter(named name: String) -> Parameter {
        guard let p = parameters.first(where: { $0.name == "." + name }) else {
            preconditionFailure("LayerProbe: no parameter '\(name)' (have \(parameterNames))")
        }
        return p
    }

    /// Names of the layer's arrays (`weight`, `bias`, `running_mean`, `running_var`).
    public var parameterNames: [String] { parameters.map { String($0.name.dropFirst()) } }

    /// The current values of array `name` (one of ``parameterNames``).
    public func parameter(_ name: String) -> [Float] { parameter(named: name).values }
    /// Replaces the values of array `name`; the count must stay the same.
    public func setParameter(_ name: String, _ values: [Float]) { parameter(named: name).values = values }
    /// Accumulated gradient of `name`.
    public func gradient(_ name: String) -> [Float] { parameter(named: name).gradients }
    /// Zeroes every accumulated gradient.
    public func zeroGradients() { for p in parameters { p.zeroGradient() } }

    /// Runs the layer (training mode uses batch statistics).
    public func forward(_ x: Tensor, training: Bool = true) -> Tensor {
        input = Activation(x)
        if let convolution { return convolution.forward(input).tensor }
        if let norm { return norm.forward(input, training: training).tensor }
        if let pool { return pool.forward(input).tensor }
        if let upsample { return upsample.forward(input).tensor }
        return transposed!.forward(input).tensor
    }

    /// Gradient with respect to the last forward's input; parameter gradients accumulate.
    public func backward(_ gradient: Tensor) -> Tensor {
        let g = Activation(gradient)
        gradientBuffer.reshape(like: g)
        if let convolution { return convolution.backward(g).tensor }
        if let norm { return norm.backward(g).tensor }
        if let pool { return pool.backward(g, inputShape: input).tensor }
        if let upsample { return upsample.backward(g).tensor }
        return transposed!.backward(g).tensor
    }
}
