import CleaveCore

/// Adam with decoupled weight decay (Loshchilov & Hutter), as PyTorch's `torch.optim.AdamW`:
///
///     θ ← θ·(1 − lr·λ);  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²
///     θ ← θ − lr · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε)
///
/// Its state (step count and moments) is `Codable` so training can be checkpointed and resumed.
public struct AdamW: Codable, Sendable, Equatable {
    /// Step size α.
    public var learningRate: Float
    /// Decay of the first-moment (mean) estimate, β₁.
    public var beta1: Float
    /// Decay of the second-moment (uncentred variance) estimate, β₂.
    public var beta2: Float
    /// Added to the square root of the second moment to avoid division by zero, ε.
    public var epsilon: Float
    /// Decoupled weight decay λ: each step multiplies a weight by 1 − α·λ before the Adam update.
    public var weightDecay: Float
    /// Steps taken so far.
    public private(set) var stepCount: Int = 0
    /// First moments (running means of the gradients), one array per trainable parameter in the network's order.
    public private(set) var firstMoments: [[Float]] = []
    /// Second moments (running means of the squared gradients), in the same order.
    public private(set) var secondMoments: [[Float]] = []

    /// An optimiser with PyTorch's AdamW defaults except `weightDecay` (0 unless given); moments start empty
    /// and are sized at the first ``step(_:)``.
    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// Applies one update from the gradients accumulated in `network` (it does not zero them).
    public mutating func step(_ network: UNet) {
        let parameters = network.trainableParameters
        if firstMoments.isEmpty {
            firstMoments = parameters.map { [Float](repeating: 0, count: $0.count) }
            secondMoments = firstMoments
        }
        precondition(firstMoments.count == parameters.count && zip(firstMoments, parameters).allSatisfy { $0.count == $1.count },
                     "AdamW.step: optimiser state does not match this network's parameters")
        stepCount += 1
        let t = Double(stepCount)
        let correction1 = Float(1 - pow(Double(beta1), t))
        let correction2 = Float(1 - pow(Double(beta2), t))
        let decay = 1 - learningRate * weightDecay
        let b1 = beta1, b2 = beta2, lr = learningRate, eps = epsilon
        let stepSize = lr / correction1
        let inverseSqrtCorrection2 = 1 / correction2.squareRoot()
        for (index, parameter) in parameters.enumerated() {
            let theta = parameter.value, g = parameter.gradient
            firstMoments[index].withUnsafeMutableBufferPointer { mb in
                secondMoments[index].withUnsafeMutableBufferPointer { vb in
                    let m = mb.baseAddress!, v = vb.baseAddress!
                    for i in 0..<parameter.count {
                        let gi = g[i]
                        let mi = b1 * m[i] + (1 - b1) * gi
                        let vi = b2 * v[i] + (1 - b2) * gi * gi
                        m[i] = mi; v[i] = vi
                        let denominator = vi.squareRoot() * inverseSqrtCorrection2 + eps
                        theta[i] = theta[i] * decay - stepSize * mi / denominator
                    }
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
