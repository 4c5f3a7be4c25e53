import CleaveCore

/// Two (3×3 conv → normalisation → ReLU) blocks: one U-Net level.
final class DoubleConvolution {
    let conv1: Convolution, norm1: NormalizedReLU, conv2: Convolution, norm2: NormalizedReLU

    init(name: String, inputChannels: Int, outputChannels: Int, normalization: Normalization) {
        let bias = normalization == .none
        conv1 = Convolution(name: name + ".conv1", inputChannels: inputChannels, outputChannels: outputChannels,
                            kernelSize: 3, bias: bias)
        norm1 = NormalizedReLU(name: name + ".norm1", channels: outputChannels, kind: normalization)
        conv2 = Convolution(name: name + ".conv2", inputChannels: outputChannels, outputChannels: outputChannels,
                            kernelSize: 3, bias: bias)
        norm2 = NormalizedReLU(name: name + ".norm2", channels: outputChannels, kind: normalization)
    }

    var parameters: [Parameter] { conv1.parameters + norm1.parameters + conv2.parameters + norm2.parameters }

    /// Training keeps every intermediate (backward reads them); inference frees each one as soon
    /// as the next layer has read it.
    func forward(_ x: Activation, training: Bool) -> Activation {
        guard !training else {
            return norm2.forward(conv2.forward(norm1.forward(conv1.forward(x), training: true)), training: true)
        }
        let a = conv1.forward(x)
        conv1.releaseScratch()
        let b = norm1.forward(a, training: false)
        a.release()
        let c = conv2.forward(b)
        conv2.releaseScratch()
        b.release()
        let d = norm2.forward(c, training: false)
        c.release()
        return d
    }

    func backward(_ da: Activation, needInputGradient: Bool) -> Activation {
        let g = conv2.backward(norm2.backward(da))
        return conv1.backward(norm1.backward(g), needInputGradient: needInputGradient)
    }
}

/// A 2-D U-Net for per-pixel classification, trained and run on the CPU.
///
/// ```
///  input ─ L0 ──────────────────────────────── concat ─ L0' ─ 1×1 ─ logits
///           └ pool ─ L1 ────────────── concat ─ L1' ─ up ┘
///                     └ pool ─ L2 (bottleneck, dropout) ─ up ┘
/// ```
/// `forward(_:training:)` then `backward(_:)` accumulates parameter gradients; an optimiser
/// (``AdamW``) applies them. Not thread-safe: one forward/backward at a time per instance.
public final class UNet: @unchecked Sendable {
    /// The architecture (fixed for the network's lifetime).
    public let configuration: UNetConfiguration
    let encoders: [DoubleConvolution]
    let pools: [MaxPool]
    let bilinearUps: [BilinearUpsample]       // per decoder level (bilinear mode)
    let upConvolutions: [Convolution]         // per decoder level (bilinear mode)
    let transposedUps: [TransposedConvolution] // per decoder level (transposed mode)
    let decoders: [DoubleConvolution]         // index = level 0 ..< depth−1
    let concatenations: [Activation]
    let skipGradients: [Activation]
    let upGradients: [Activation]
    let dropout: Dropout
    let head: Convolution
    private let inputBuffer = Activation()
    private let logitGradient = Activation()
    private var dropoutGenerator: SeededGenerator
    private var lastForwardWasTraining = false
    /// All arrays in a fixed order (trainable and running statistics).
    let allParameters: [Parameter]

    /// A freshly initialised network (Kaiming-normal convolutions, unit norms, zero biases).
    /// - Throws: ``UNetError/weightsMismatch(array:reason:)`` when the configuration is invalid.
    public init(configuration: UNetConfiguration, seed: UInt64) throws {
        try configuration.validate()
        self.configuration = configuration
        let depth = configuration.depth
        let norm = configuration.normalization
        var encoders: [DoubleConvolution] = []
        for level in 0..<depth {
            let input = level == 0 ? configuration.inputChannels : configuration.width(level: level - 1)
            encoders.append(DoubleConvolution(name: "encoder\(level)", inputChannels: input,
                                              outputChannels: configuration.width(level: level), normalization: norm))
        }
        var decoders: [DoubleConvolution] = []
        var bilinearUps: [BilinearUpsample] = [], upConvolutions: [Convolution] = []
        var transposedUps: [TransposedConvolution] = []
        for level in 0..<(depth - 1) {
            let w = configuration.width(level: level)
            decoders.append(DoubleConvolution(name: "decoder\(level)", inputChannels: 2 * w, outputChannels: w,
                                              normalization: norm))
            switch configuration.upsampling {
            case .bilinear:
                bilinearUps.append(BilinearUpsample())
                upConvolutions.append(Convolution(name: "decoder\(level).up", inputChannels: 2 * w, outputChannels: w,
                                                  kernelSize: 3, bias: true))
            case .transposed:
                transposedUps.append(TransposedConvolution(name: "decoder\(level).up", inputChannels: 2 * w, outputChannels: w))
            }
        }
        self.encoders = encoders
        self.decoders = decoders
        self.bilinearUps = bilinearUps
        self.upConvolutions = upConvolutions
        self.transposedUps = transposedUps
        pools = (0..<max(0, depth - 1)).map { _ in MaxPool() }
        concatenations = (0..<max(0, depth - 1)).map { _ in Activation() }
        skipGradients = (0..<max(0, depth - 1)).map { _ in Activation() }
        upGradients = (0..<max(0, depth - 1)).map { _ in Activation() }
        dropout = Dropout(rate: configuration.dropout)
        head = Convolution(name: "head", inputChannels: configuration.baseWidth, outputChannels: configuration.classes,
                           kernelSize: 1, bias: true)
        dropoutGenerator = SeededGenerator.stream(seed: seed, index: 1 << 20)

        var all: [Parameter] = []
        for level in 0..<depth { all += encoders[level].parameters }
        for level in stride(from: depth - 2, through: 0, by: -1) {
            if configuration.upsampling == .bilinear { all += upConvolutions[level].parameters } else { all += transposedUps[level].parameters }
            all += decoders[level].parameters
        }
        all += head.parameters
        allParameters = all

        // Seeded initialisation: one generator stream per convolution, in a fixed order.
        var stream = 0
        func next() -> SeededGenerator { defer { stream += 1 }; return SeededGenerator.stream(seed: seed, index: stream) }
        for level in 0..<depth {
            var g1 = next(); encoders[level].conv1.initialize(&g1)
            var g2 = next(); encoders[level].conv2.initialize(&g2)
        }
        for level in stride(from: depth - 2, through: 0, by: -1) {
            var gu = next()
            if configuration.upsampling == .bilinear { upConvolutions[level].initialize(&gu) } else { transposedUps[level].initialize(&gu) }
            var g1 = next(); decoders[level].conv1.initialize(&g1)
            var g2 = next(); decoders[level].conv2.initialize(&g2)
        }
        var gh = next(); head.initialize(&gh)
    }

    /// A network with the given weights.
    /// - Throws: ``UNetError/weightsMismatch(array:reason:)`` when the configuration is invalid or an array is missing, extra or mis-shaped.
    public convenience init(weights: UNetWeights) throws {
        try self.init(configuration: weights.configuration, seed: 0)
        try load(weights)
    }

    /// The accumulated gradients, named and shaped like ``weights()`` (running statistics have zero gradient).
    public func gradients() -> UNetWeights {
        UNetWeights(configuration: configuration,
                    arrays: allParameters.map { UNetWeights.NamedArray(name: $0.name, shape: $0.shape, values: $0.gradients) })
    }

    /// Replaces every array with those of `weights` (same configuration), e.g. to restore the best checkpoint.
    /// - Throws: ``UNetError/weightsMismatch(array:reason:)`` when the configuration differs or an array is missing, extra or mis-shaped;
    ///   the network is unchanged then.
    public func load(_ weights: UNetWeights) throws {
        guard weights.configuration == configuration else {
            throw UNetError.weightsMismatch(array: nil, reason: "configuration \(weights.configuration) does not match the network's \(configuration)")
        }
        var byName: [String: UNetWeights.NamedArray] = [:]
        for array in weights.arrays {
            if byName[array.name] != nil { throw UNetError.weightsMismatch(array: array.name, reason: "appears twice") }
            byName[array.name] = array
        }
        for parameter in allParameters {
            guard let array = byName.removeValue(forKey: parameter.name) else {
                throw UNetError.weightsMismatch(array: nil, reason: "missing array '\(parameter.name)' (shape \(parameter.shape)) for this configuration")
            }
            if array.shape != parameter.shape || array.values.count != parameter.count {
                throw UNetError.weightsMismatch(array: parameter.name, reason: "has shape \(array.shape) with \(array.values.count) values, expected shape \(parameter.shape)")
            }
            if array.values.contains(where: { !$0.isFinite }) {
                throw UNetError.weightsMismatch(array: parameter.name, reason: "contains non-finite values")
            }
        }
        if let extra = byName.keys.sorted().first {
            throw UNetError.weightsMismatch(array: nil, reason: "unexpected array '\(extra)' for this configuration (\(byName.count) extra)")
        }
        let lookup = Dictionary(uniqueKeysWithValues: weights.arrays.map { ($0.name, $0) })
        for parameter in allParameters { parameter.values = lookup[parameter.name]!.values }
    }

    /// Number of trainable values.
    public var parameterCount: Int { allParameters.filter(\.trainable).reduce(0) { $0 + $1.count } }

    /// A snapshot of every array, including batch-norm running statistics.
    public func weights() -> UNetWeights {
        UNetWeights(configuration: configuration,
                    arrays: allParameters.map { UNetWeights.NamedArray(name: $0.name, shape: $0.shape, values: $0.values) })
    }

    /// Logits (N × classes × H × W) for an N × inputChannels × H × W input (H, W multiples of ``UNetConfiguration/sizeMultiple``).
    ///
    /// `training: true` uses batch statistics (and updates running statistics) and dropout, and
    /// records what ``backward(_:)`` needs; `false` uses running statistics.
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.channels == configuration.inputChannels,
                     "UNet.forward: input has \(input.channels) channels, the network expects \(configuration.inputChannels)")
        precondition(input.height % configuration.sizeMultiple == 0 && input.width % configuration.sizeMultiple == 0 && input.height > 0 && input.width > 0,
                     "UNet.forward: input \(input.height)×\(input.width) is not a multiple of \(configuration.sizeMultiple)")
        inputBuffer.reshape(input.batch, input.channels, input.height, input.width)
        input.storage.withUnsafeBufferPointer { inputBuffer.pointer.update(from: $0.baseAddress!, count: input.count) }
        let depth = configuration.depth
        // Inference frees every activation once the layers that read it have run, so a tile needs
        // the few activations alive at its widest moment (about 5 × width maps of the tile at full
        // resolution) instead of every layer's output (about 20 ×: 2 GB for a 1024-pixel tile at
        // width 16). Training keeps them all for backward. Freed buffers are allocated again by the
        // next forward; the values computed are the same.
        let release = !training
        var skips: [Activation] = []
        var x: Activation = inputBuffer
        for level in 0..<depth {
            let input = x
            x = encoders[level].forward(x, training: training)
            if release { input.release() }
            if level < depth - 1 {
                skips.append(x)
                x = pools[level].forward(x)
            }
        }
        x = dropout.forward(x, training: training, generator: &dropoutGenerator)
        for level in stride(from: depth - 2, through: 0, by: -1) {
            let up: Activation
            if configuration.upsampling == .bilinear {
                let upsampled = bilinearUps[level].forward(x)
                if release { x.release() }
                up = upConvolutions[level].forward(upsampled)
                if release { upsampled.release(); upConvolutions[level].releaseScratch() }
            } else {
                up = transposedUps[level].forward(x)
                if release { x.release(); transposedUps[level].releaseScratch() }
            }
            let cat = concatenations[level]
            Self.concatenate(skips[level], up, into: cat)
            if release { skips[level].release(); up.release() }
            x = decoders[level].forward(cat, training: training)
            if release { cat.release() }
        }
        let logits = head.forward(x)
        lastForwardWasTraining = training
        let result = logits.tensor
        if release { x.release(); head.releaseScratch(); logits.release() }
        return result
    }

    /// Back-propagates the gradient of the loss with respect to the logits of the last
    /// `forward(_:training: true)` and ADDS the parameter gradients to the accumulated ones.
    /// - Parameter inputGradient: also compute and return ∂loss/∂input (costs one more convolution pass).
    @discardableResult
    public func backward(_ gradientOfLogits: Tensor, inputGradient: Bool = false) -> Tensor? {
        precondition(lastForwardWasTraining, "UNet.backward needs a preceding forward(_:training: true)")
        precondition(gradientOfLogits.count == head.output.count && gradientOfLogits.channels == configuration.classes,
                     "UNet.backward: gradient shape does not match the last logits")
        logitGradient.reshape(gradientOfLogits.batch, gradientOfLogits.channels, gradientOfLogits.height, gradientOfLogits.width)
        gradientOfLogits.storage.withUnsafeBufferPointer { logitGradient.pointer.update(from: $0.baseAddress!, count: gradientOfLogits.count) }
        let depth = configuration.depth
        var g = head.backward(logitGradient)
        for level in 0..<(depth - 1) {
            let dcat = decoders[level].backward(g, needInputGradient: true)
            Self.split(dcat, skipChannels: configuration.width(level: level), skip: skipGradients[level], up: upGradients[level])
            if configuration.upsampling == .bilinear {
                g = bilinearUps[level].backward(upConvolutions[level].backward(upGradients[level]))
            } else {
                g = transposedUps[level].backward(upGradients[level])
            }
        }
        // g is now the gradient at the (dropped-out) bottleneck output.
        if configuration.dropout > 0 { g = dropout.backward(g) }
        let dx = backwardEncoders(g, inputGradient: inputGradient)
        return inputGradient ? dx.tensor : nil
    }

    private func backwardEncoders(_ bottleneckGradient: Activation, inputGradient: Bool) -> Activation {
        let depth = configuration.depth
        var g = bottleneckGradient
        for level in stride(from: depth - 1, through: 0, by: -1) {
            if level < depth - 1 {
                // Gradient at this level's output = from the pool + from the skip connection.
                let pooled = pools[level].backward(g, inputShape: encoders[level].norm2.output)
                ConvolutionKernels.addInPlace(pooled.pointer, skipGradients[level].pointer, pooled.count)
                g = pooled
            }
            g = encoders[level].backward(g, needInputGradient: level > 0 || inputGradient)
        }
        return g
    }

    /// Zeroes the accumulated parameter gradients.
    public func zeroGradients() { for p in allParameters { p.zeroGradient() } }

    static func concatenate(_ a: Activation, _ b: Activation, into out: Activation) {
        out.reshape(a.batch, a.channels + b.channels, a.height, a.width)
        let sa = a.imageSize, sb = b.imageSize
        for n in 0..<a.batch {
            out.image(n).update(from: a.image(n), count: sa)
            (out.image(n) + sa).update(from: b.image(n), count: sb)
        }
    }

    static func split(_ g: Activation, skipChannels: Int, skip: Activation, up: Activation) {
        skip.reshape(g.batch, skipChannels, g.height, g.width)
        up.reshape(g.batch, g.channels - skipChannels, g.height, g.width)
        let sa = skip.imageSize, sb = up.imageSize
        for n in 0..<g.batch {
            skip.image(n).update(from: g.image(n), count: sa)
            up.image(n).update(from: g.image(n) + sa, count: sb)
        }
    }

    /// Trainable parameters in a fixed order (for optimisers).
    var trainableParameters: [Parameter] { allParameters.filter(\.trainable) }
}
