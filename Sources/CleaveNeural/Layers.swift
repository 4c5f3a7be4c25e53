import CleaveCore

// The layers of the U-Net. Each owns its output and input-gradient buffers and remembers what
// its backward pass needs from the last forward pass.

protocol Layer: AnyObject {
    var parameters: [Parameter] { get }
}

/// 3×3 (padding 1) or 1×1 convolution, stride 1. Weight layout [Co, Ci, k, k] as in PyTorch.
final class Convolution: Layer {
    let inputChannels: Int, outputChannels: Int, kernelSize: Int
    let weight: Parameter
    let bias: Parameter?
    let output = Activation()
    let inputGradient = Activation()
    private unowned(unsafe) var input: Activation?
    private let scratch = ScratchBuffer(), paddedScratch = ScratchBuffer()

    init(name: String, inputChannels: Int, outputChannels: Int, kernelSize: Int, bias: Bool) {
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        weight = Parameter(name: name + ".weight", shape: [outputChannels, inputChannels, kernelSize, kernelSize])
        self.bias = bias ? Parameter(name: name + ".bias", shape: [outputChannels]) : nil
    }

    var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    /// Kaiming-normal weights (fan-in, ReLU gain), zero bias.
    func initialize(_ generator: inout SeededGenerator) {
        let std = (2.0 / Double(inputChannels * kernelSize * kernelSize)).squareRoot()
        for i in 0..<weight.count { weight.value[i] = Float(generator.nextGaussian() * std) }
        bias?.value.update(repeating: 0, count: outputChannels)
    }

    func forward(_ x: Activation) -> Activation {
        precondition(x.channels == inputChannels, "Convolution: \(x.channels) input channels, expected \(inputChannels)")
        input = x
        output.reshape(x.batch, outputChannels, x.height, x.width)
        let padded = paddedScratch.pointer(kernelSize == 3 ? inputChannels * (x.height + 2) * (x.width + 2) : 1)
        for n in 0..<x.batch {
            ConvolutionKernels.forward(x: x.image(n), inputChannels: inputChannels, height: x.height, width: x.width,
                                       weight: weight.value, bias: bias?.value, outputChannels: outputChannels,
                                       kernelSize: kernelSize, y: output.image(n), padded: padded)
        }
        return output
    }

    /// Frees the scratch buffers (inference: the next forward allocates them again).
    func releaseScratch() { scratch.release(); paddedScratch.release() }

    /// Accumulates parameter gradients; returns the input gradient when `needInputGradient`.
    @discardableResult
    func backward(_ dy: Activation, needInputGradient: Bool = true) -> Activation {
        guard let x = input else { preconditionFailure("Convolution.backward before forward") }
        if needInputGradient { inputGradient.reshape(like: x) }
        let flipped = scratch.pointer(weight.count)
        if kernelSize == 3 {
            ConvolutionKernels.flippedWeights(weight.value, inputChannels: inputChannels, outputChannels: outputChannels, into: flipped)
        }
        let padded = paddedScratch.pointer(kernelSize == 3 ? max(inputChannels, outputChannels) * (x.height + 2) * (x.width + 2) : 1)
        for n in 0..<x.batch {
            ConvolutionKernels.backward(x: x.image(n), inputChannels: inputChannels, height: x.height, width: x.width,
                                        weight: weight.value, flipped: kernelSize == 3 ? UnsafePointer(flipped) : nil,
                                        outputChannels: outputChannels, kernelSize: kernelSize,
                                        dy: dy.image(n), weightGradient: weight.gradient, biasGradient: bias?.gradient,
                                        dx: needInputGradient ? inputGradient.image(n) : nil, padded: padded)
        }
        return inputGradient
    }
}

/// Normalisation (batch, group or none) followed by ReLU.
final class NormalizedReLU: Layer {
    let channels: Int
    let kind: Normalization
    let gamma: Parameter?, beta: Parameter?
    let runningMean: Parameter?, runningVariance: Parameter?
    let output = Activation()
    let inputGradient = Activation()
    private let normalized = Activation()     // x̂ from the last training forward
    private let dyBuffer = Activation()
    private var invstd: [Float] = []          // per channel (batch) or per sample·group (group)
    private var trainedForward = false
    static let epsilon: Float = 1e-5
    static let momentum: Float = 0.1

    init(name: String, channels: Int, kind: Normalization) {
        self.channels = channels
        self.kind = kind
        switch kind {
        case .none:
            gamma = nil; beta = nil; runningMean = nil; runningVariance = nil
        case .group:
            gamma = Parameter(name: name + ".weight", shape: [channels], fill: 1)
            beta = Parameter(name: name + ".bias", shape: [channels])
            runningMean = nil; runningVariance = nil
        case .batch:
            gamma = Parameter(name: name + ".weight", shape: [channels], fill: 1)
            beta = Parameter(name: name + ".bias", shape: [channels])
            runningMean = Parameter(name: name + ".running_mean", shape: [channels], trainable: false)
            runningVariance = Parameter(name: name + ".running_var", shape: [channels], trainable: false, fill: 1)
        }
    }

    var parameters: [Parameter] { [gamma, beta, runningMean, runningVariance].compactMap { $0 } }

    func forward(_ z: Activation, training: Bool) -> Activation {
        output.reshape(like: z)
        let n = z.batch, p = z.planeSize, c = channels
        switch kind {
        case .none:
            let count = z.count
            let zp = z.pointer, ap = output.pointer
            Parallel.forEachChunk(of: count, chunkCount: max(1, min(16, count / 65536))) { range in
                NormalizationKernels.scaleShiftReLU(zp + range.lowerBound, ap + range.lowerBound,
                                                    count: range.count, scale: 1, shift: 0)
            }
        case .batch:
            let g = gamma!.value, b = beta!.value
            let rm = runningMean!.value, rv = runningVariance!.value
            let zp = z.pointer, ap = output.pointer
            if training {
                normalized.reshape(like: z)
                if invstd.count != c { invstd = [Float](repeating: 0, count: c) }
                let hp = normalized.pointer
                let m = n * p
                invstd.withUnsafeMutableBufferPointer { inv in
                    let invp = inv.baseAddress!
                    Parallel.forEach(c) { ch in
                        var sum = 0.0, squares = 0.0
                        for i in 0..<n {
                            let (s, q) = NormalizationKernels.moments(zp + (i * c + ch) * p, p)
                            sum += s; squares += q
                        }
                        let mean = sum / Double(m)
                        let variance = max(0, squares / Double(m) - mean * mean)
                        let inverse = Float(1 / (variance + Double(Self.epsilon)).squareRoot())
                        invp[ch] = inverse
                        for i in 0..<n {
                            let offset = (i * c + ch) * p
                            NormalizationKernels.normalizeReLU(zp + offset, hp + offset, ap + offset, count: p,
                                                               mean: Float(mean), invstd: inverse, gamma: g[ch], beta: b[ch])
                        }
                        let unbiased = m > 1 ? variance * Double(m) / Double(m - 1) : variance
                        rm[ch] = (1 - Self.momentum) * rm[ch] + Self.momentum * Float(mean)
                        rv[ch] = (1 - Self.momentum) * rv[ch] + Self.momentum * Float(unbiased)
                    }
                }
            } else {
                Parallel.forEach(c) { ch in
                    let scale = g[ch] / (rv[ch] + Self.epsilon).squareRoot()
                    let shift = b[ch] - rm[ch] * scale
                    for i in 0..<n {
                        let offset = (i * c + ch) * p
                        NormalizationKernels.scaleShiftReLU(zp + offset, ap + offset, count: p, scale: scale, shift: shift)
                    }
                }
            }
        case .group(let groups):
            let g = gamma!.value, b = beta!.value
            let perGroup = c / groups
            let m = perGroup * p
            normalized.reshape(like: z)
            if invstd.count != n * groups { invstd = [Float](repeating: 0, count: n * groups) }
            let zp = z.pointer, ap = output.pointer, hp = normalized.pointer
            invstd.withUnsafeMutableBufferPointer { inv in
                let invp = inv.baseAddress!
                Parallel.forEach(n * groups) { task in
                    let i = task / groups, group = task % groups
                    let base = (i * c + group * perGroup) * p
                    let (sum, squares) = NormalizationKernels.moments(zp + base, m)
                    let mean = sum / Double(m)
                    let variance = max(0, squares / Double(m) - mean * mean)
                    let inverse = Float(1 / (variance + Double(Self.epsilon)).squareRoot())
                    invp[task] = inverse
                    for k in 0..<perGroup {
                        let ch = group * perGroup + k
                        let offset = base + k * p
                        NormalizationKernels.normalizeReLU(zp + offset, hp + offset, ap + offset, count: p,
                                                           mean: Float(mean), invstd: inverse, gamma: g[ch], beta: b[ch])
                    }
                }
            }
        }
        trainedForward = training
        // x̂ is kept for backward only: inference frees it (a whole activation per layer).
        if !training { normalized.release() }
        return output
    }

    func backward(_ da: Activation) -> Activation {
        inputGradient.reshape(like: output)
        let n = output.batch, p = output.planeSize, c = channels
        let dap = da.pointer, ap = output.pointer, dzp = inputGradient.pointer
        switch kind {
        case .none:
            let count = output.count
            Parallel.forEachChunk(of: count, chunkCount: max(1, min(16, count / 65536))) { range in
                NormalizationKernels.reluBackward(dap + range.lowerBound, ap + range.lowerBound,
                                                  dzp + range.lowerBound, count: range.count)
            }
        case .batch:
            precondition(trainedForward, "NormalizedReLU.backward needs forward(training: true)")
            dyBuffer.reshape(like: output)
            let g = gamma!.value, gg = gamma!.gradient, bg = beta!.gradient
            let hp = normalized.pointer, dyp = dyBuffer.pointer
            let m = Double(n * p)
            invstd.withUnsafeBufferPointer { inv in
                let invp = inv.baseAddress!
                Parallel.forEach(c) { ch in
                    var sumDy = 0.0, sumDyH = 0.0
                    for i in 0..<n {
                        let offset = (i * c + ch) * p
                        let (s, q) = NormalizationKernels.maskedSums(dap + offset, ap + offset, hp + offset, dyp + offset, count: p)
                        sumDy += s; sumDyH += q
                    }
                    gg[ch] += Float(sumDyH)
                    bg[ch] += Float(sumDy)
                    let k = g[ch] * invp[ch]
                    for i in 0..<n {
                        let offset = (i * c + ch) * p
                        NormalizationKernels.normBackward(dyp + offset, hp + offset, dzp + offset, count: p,
                                                          k: k, c1: Float(sumDy / m), c2: Float(sumDyH / m))
                    }
                }
            }
        case .group(let groups):
            dyBuffer.reshape(like: output)
            let g = gamma!.value, gg = gamma!.gradient, bg = beta!.gradient
            let hp = normalized.pointer, dyp = dyBuffer.pointer
            let perGroup = c / groups
            // Pass 1 (per channel, over the batch in order): dy, Σdy, Σdy·x̂ → γ, β gradients.
            var sums = [Double](repeating: 0, count: 2 * n * c)
            sums.withUnsafeMutableBufferPointer { sb in
                let s = sb.baseAddress!
                Parallel.forEach(c) { ch in
                    var totalDy = 0.0, totalDyH = 0.0
                    for i in 0..<n {
                        let offset = (i * c + ch) * p
                        let (a, b) = NormalizationKernels.maskedSums(dap + offset, ap + offset, hp + offset, dyp + offset, count: p)
                        s[2 * (i * c + ch)] = a; s[2 * (i * c + ch) + 1] = b
                        totalDy += a; totalDyH += b
                    }
                    gg[ch] += Float(totalDyH)
                    bg[ch] += Float(totalDy)
                }
            }
            // Pass 2 (per sample·group): dx̂ = γ·dy; dz = invstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)).
            let m = Double(perGroup * p)
            sums.withUnsafeBufferPointer { sb in
                invstd.withUnsafeBufferPointer { inv in
                    let s = sb.baseAddress!, invp = inv.baseAddress!
                    Parallel.forEach(n * groups) { task in
                        let i = task / groups, group = task % groups
                        var s1 = 0.0, s2 = 0.0
                        for k in 0..<perGroup {
                            let ch = group * perGroup + k
                            s1 += Double(g[ch]) * s[2 * (i * c + ch)]
                            s2 += Double(g[ch]) * s[2 * (i * c + ch) + 1]
                        }
                        for k in 0..<perGroup {
                            let ch = group * perGroup + k
                            let offset = (i * c + ch) * p
                            // dz = invstd·(γ·dy − s1/m − x̂·s2/m) = (invstd·γ)·(dy − s1/(γm) − x̂·s2/(γm))
                            let gammaValue = g[ch]
                            if gammaValue != 0 {
                                NormalizationKernels.normBackward(dyp + offset, hp + offset, dzp + offset, count: p,
                                                                  k: invp[task] * gammaValue,
                                                                  c1: Float(s1 / m / Double(gammaValue)),
                                                                  c2: Float(s2 / m / Double(gammaValue)))
                            } else {
                                let c1 = Float(s1 / m), c2 = Float(s2 / m), inverse = invp[task]
                                for j in 0..<p { dzp[offset + j] = inverse * (-c1 - hp[offset + j] * c2) }
                            }
                        }
                    }
                }
            }
        }
        return inputGradient
    }
}

/// 2×2 max pooling, stride 2 (even sizes only). Ties pick the first maximum in row-major order.
final class MaxPool: Layer {
    let output = Activation()
    let inputGradient = Activation()
    private var argmax: [UInt8] = []
    var parameters: [Parameter] { [] }

    func forward(_ x: Activation) -> Activation {
        let h = x.height / 2, w = x.width / 2
        output.reshape(x.batch, x.channels, h, w)
        if argmax.count < output.count { argmax = [UInt8](repeating: 0, count: output.count) }
        let planes = x.batch * x.channels
        let xp = x.pointer, yp = output.pointer
        let inW = x.width, inPlane = x.planeSize, outPlane = h * w
        argmax.withUnsafeMutableBufferPointer { am in
            let idx = am.baseAddress!
            Parallel.forEachChunk(of: planes, chunkCount: min(planes, 32)) { range in
                for plane in range {
                    let src = xp + plane * inPlane, dst = yp + plane * outPlane, ix = idx + plane * outPlane
                    for r in 0..<h {
                        let row0 = src + 2 * r * inW, row1 = row0 + inW
                        for c in 0..<w {
                            let v0 = row0[2 * c], v1 = row0[2 * c + 1], v2 = row1[2 * c], v3 = row1[2 * c + 1]
                            var best = v0, which: UInt8 = 0
                            if v1 > best { best = v1; which = 1 }
                            if v2 > best { best = v2; which = 2 }
                            if v3 > best { best = v3; which = 3 }
                            dst[r * w + c] = best
                            ix[r * w + c] = which
                        }
                    }
                }
            }
        }
        return output
    }

    func backward(_ dy: Activation, inputShape x: Activation) -> Activation {
        inputGradient.reshape(like: x)
        let h = output.height, w = output.width
        let planes = x.batch * x.channels
        let dxp = inputGradient.pointer, dyp = dy.pointer
        let inW = x.width, inPlane = x.planeSize, outPlane = h * w
        argmax.withUnsafeBufferPointer { am in
            let idx = am.baseAddress!
            Parallel.forEachChunk(of: planes, chunkCount: min(planes, 32)) { range in
                for plane in range {
                    let dst = dxp + plane * inPlane, src = dyp + plane * outPlane, ix = idx + plane * outPlane
                    dst.update(repeating: 0, count: inPlane)
                    for r in 0..<h {
                        for c in 0..<w {
                            let which = Int(ix[r * w + c])
                            dst[(2 * r + which / 2) * inW + 2 * c + which % 2] = src[r * w + c]
                        }
                    }
                }
            }
        }
        return inputGradient
    }
}

/// ×2 bilinear up-sampling with PyTorch's `align_corners=False` (half-pixel centres, edge clamp).
final class BilinearUpsample: Layer {
    let output = Activation()
    let inputGradient = Activation()
    private let rowsBuffer = Activation()
    var parameters: [Parameter] { [] }

    func forward(_ x: Activation) -> Activation {
        let h = x.height, w = x.width
        output.reshape(x.batch, x.channels, 2 * h, 2 * w)
        let planes = x.batch * x.channels
        let xp = x.pointer, yp = output.pointer
        Parallel.forEachChunk(of: planes, chunkCount: min(planes, 32)) { range in
            for plane in range {
                ResamplingKernels.upsamplePlane(xp + plane * h * w, yp + plane * 4 * h * w, height: h, width: w)
            }
        }
        return output
    }

    func backward(_ dy: Activation) -> Activation {
        let h = output.height / 2, w = output.width / 2
        inputGradient.reshape(dy.batch, dy.channels, h, w)
        let planes = dy.batch * dy.channels
        let dxp = inputGradient.pointer, dyp = dy.pointer
        Parallel.forEachChunk(of: planes, chunkCount: min(planes, 32)) { range in
            for plane in range {
                ResamplingKernels.upsamplePlaneBackward(dyp + plane * 4 * h * w, dxp + plane * h * w, height: h, width: w)
            }
        }
        return inputGradient
    }
}

/// 2×2 transposed convolution, stride 2. Weight layout [Ci, Co, 2, 2] as in PyTorch; with bias.
final class TransposedConvolution: Layer {
    let inputChannels: Int, outputChannels: Int
    let weight: Parameter, bias: Parameter
    let output = Activation()
    let inputGradient = Activation()
    private unowned(unsafe) var input: Activation?
    private let scratch = ScratchBuffer()

    init(name: String, inputChannels: Int, outputChannels: Int) {
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        weight = Parameter(name: name + ".weight", shape: [inputChannels, outputChannels, 2, 2])
        bias = Parameter(name: name + ".bias", shape: [outputChannels])
    }

    var parameters: [Parameter] { [weight, bias] }

    func initialize(_ generator: inout SeededGenerator) {
        let std = (2.0 / Double(inputChannels * 4)).squareRoot()
        for i in 0..<weight.count { weight.value[i] = Float(generator.nextGaussian() * std) }
        bias.value.update(repeating: 0, count: outputChannels)
    }

    func forward(_ x: Activation) -> Activation {
        input = x
        let h = x.height, w = x.width, p = h * w
        output.reshape(x.batch, outputChannels, 2 * h, 2 * w)
        let r = outputChannels * 4
        let t = scratch.pointer(r * p)
        for n in 0..<x.batch {
            // T[(co,dy,dx) × P] = Wᵀ[(co,dy,dx) × Ci] · X[Ci × P]
            GEMM.unsafeMultiply(m: r, n: p, k: inputChannels, a: MatrixView(weight.value, rowStride: r).transposed,
                          b: MatrixView(x.image(n), rowStride: p), c: t, ldc: p, accumulate: false)
            ResamplingKernels.scatter2x2(t, output.image(n), channels: outputChannels, height: h, width: w, bias: bias.value)
        }
        return output
    }

    /// Frees the scratch buffer (inference: the next forward allocates it again).
    func releaseScratch() { scratch.release() }

    func backward(_ dy: Activation) -> Activation {
        guard let x = input else { preconditionFailure("TransposedConvolution.backward before forward") }
        let h = x.height, w = x.width, p = h * w
        let r = outputChannels * 4
        inputGradient.reshape(like: x)
        let t = scratch.pointer(r * p)
        for n in 0..<x.batch {
            ResamplingKernels.gather2x2(dy.image(n), t, channels: outputChannels, height: h, width: w,
                                        biasGradient: bias.gradient)
            // dW[Ci × R] += X[Ci × P] · dTᵀ
            GEMM.unsafeMultiply(m: inputChannels, n: r, k: p, a: MatrixView(x.image(n), rowStride: p),
                          b: MatrixView(t, rowStride: p).transposed, c: weight.gradient, ldc: r, accumulate: true)
            // dX[Ci × P] = W[Ci × R] · dT[R × P]
            GEMM.unsafeMultiply(m: inputChannels, n: p, k: r, a: MatrixView(weight.value, rowStride: r),
                          b: MatrixView(t, rowStride: p), c: inputGradient.image(n), ldc: p, accumulate: false)
        }
        return inputGradient
    }
}

/// Inverted dropout (scaled by 1/(1−rate) in training, identity in inference).
final class Dropout: Layer {
    let rate: Float
    let output = Activation()
    let inputGradient = Activation()
    private var mask: [Float] = []
    var parameters: [Parameter] { [] }

    init(rate: Float) { self.rate = rate }

    func forward(_ x: Activation, training: Bool, generator: inout SeededGenerator) -> Activation {
        guard training, rate > 0 else { return x }
        output.reshape(like: x)
        if mask.count != x.count { mask = [Float](repeating: 0, count: x.count) }
        let keep = 1 / (1 - rate)
        for i in 0..<x.count {
            mask[i] = generator.nextDouble() < Double(rate) ? 0 : keep
            output.pointer[i] = x.pointer[i] * mask[i]
        }
        return output
    }

    func backward(_ dy: Activation) -> Activation {
        inputGradient.reshape(like: dy)
        for i in 0..<dy.count { inputGradient.pointer[i] = dy.pointer[i] * mask[i] }
        return inputGradient
    }
}
