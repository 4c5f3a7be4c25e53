import CleaveCore

/// Segmentation losses on logits (N × K × H × W) and per-pixel labels (N × H × W, row-major).
///
/// Labels are class indices `0 ..< K`; any negative label (conventionally −1) marks an
/// unlabelled pixel that contributes neither to the loss nor to the gradient.
public enum Loss {
    /// Per-pixel softmax over the channels.
    public static func softmax(_ logits: Tensor) -> Tensor {
        var out = logits
        let k = logits.channels, p = logits.planeSize
        logits.storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                for n in 0..<logits.batch {
                    let base = n * k * p
                    for i in 0..<p {
                        var maximum = -Float.infinity
                        for c in 0..<k { maximum = max(maximum, src[base + c * p + i]) }
                        var sum: Float = 0
                        for c in 0..<k {
                            let e = expf(src[base + c * p + i] - maximum)
                            dst[base + c * p + i] = e
                            sum += e
                        }
                        let inverse = 1 / sum
                        for c in 0..<k { dst[base + c * p + i] *= inverse }
                    }
                }
            }
        }
        return out
    }

    /// Softmax cross-entropy, averaged over labelled pixels.
    ///
    /// With `classWeights` (one per class), each pixel counts `w[label]` times and the mean divides
    /// by the sum of those weights (PyTorch's `cross_entropy(weight=…, ignore_index=-1)`).
    /// With no labelled pixel the loss and gradient are zero.
    /// - Returns: the loss and its gradient with respect to the logits.
    public static func softmaxCrossEntropy(logits: Tensor, labels: [Int32], classWeights: [Float]? = nil) -> (loss: Float, gradient: Tensor) {
        let k = logits.channels, p = logits.planeSize
        precondition(labels.count == logits.batch * p, "Loss.softmaxCrossEntropy: \(labels.count) labels for \(logits.batch)×\(logits.height)×\(logits.width) pixels")
        if let classWeights { precondition(classWeights.count == k, "Loss.softmaxCrossEntropy: \(classWeights.count) class weights for \(k) classes") }
        var gradient = softmax(logits)
        var total = 0.0, weightSum = 0.0
        for n in 0..<logits.batch {
            for i in 0..<p {
                let label = Int(labels[n * p + i])
                let base = n * k * p + i
                if label < 0 {
                    for c in 0..<k { gradient.storage[base + c * p] = 0 }
                    continue
                }
                precondition(label < k, "Loss.softmaxCrossEntropy: label \(label) at pixel \(n * p + i) is not below \(k) classes")
                let w = Double(classWeights?[label] ?? 1)
                let probability = Double(gradient.storage[base + label * p])
                total += -w * log(max(probability, 1e-30))
                weightSum += w
                // Store w·(p − onehot); divided by the weight sum below.
                for c in 0..<k {
                    let q = gradient.storage[base + c * p]
                    gradient.storage[base + c * p] = Float(w) * (q - (c == label ? 1 : 0))
                }
            }
        }
        guard weightSum > 0 else {
            return (0, Tensor(batch: logits.batch, channels: k, height: logits.height, width: logits.width))
        }
        let scale = Float(1 / weightSum)
        for i in 0..<gradient.count { gradient.storage[i] *= scale }
        return (Float(total / weightSum), gradient)
    }

    /// Soft multi-class Dice loss on the softmax: `1 − mean_c (2·Σ p·g + 1) / (Σ p + Σ g + 1)`,
    /// sums over the labelled pixels of the whole batch (smoothing 1).
    /// - Returns: the loss and its gradient with respect to the logits.
    public static func dice(logits: Tensor, labels: [Int32]) -> (loss: Float, gradient: Tensor) {
        let k = logits.channels, p = logits.planeSize
        precondition(labels.count == logits.batch * p, "Loss.dice: \(labels.count) labels for \(logits.batch)×\(logits.height)×\(logits.width) pixels")
        let probabilities = softmax(logits)
        let smooth = 1.0
        var intersection = [Double](repeating: 0, count: k)
        var sums = [Double](repeating: 0, count: k)
        for n in 0..<logits.batch {
            for i in 0..<p {
                let label = Int(labels[n * p + i])
                if label < 0 { continue }
                precondition(label < k, "Loss.dice: label \(label) at pixel \(n * p + i) is not below \(k) classes")
                let base = n * k * p + i
                for c in 0..<k { sums[c] += Double(probabilities.storage[base + c * p]) }
                intersection[label] += Double(probabilities.storage[base + label * p])
                sums[label] += 1
            }
        }
        var score = 0.0
        var dLossDp = [Double](repeating: 0, count: 2 * k)   // per class: coefficient of g and constant
        for c in 0..<k {
            let numerator = 2 * intersection[c] + smooth, denominator = sums[c] + smooth
            score += numerator / denominator
            // ∂D_c/∂p_ic = (2 g_ic·den − num) / den²; loss = 1 − mean D.
            dLossDp[2 * c] = -(2 / denominator) / Double(k)
            dLossDp[2 * c + 1] = (numerator / (denominator * denominator)) / Double(k)
        }
        var gradient = Tensor(batch: logits.batch, channels: k, height: logits.height, width: logits.width)
        var dp = [Double](repeating: 0, count: k)
        for n in 0..<logits.batch {
            for i in 0..<p {
                let label = Int(labels[n * p + i])
                if label < 0 { continue }
                let base = n * k * p + i
                var dot = 0.0
                for c in 0..<k {
                    dp[c] = dLossDp[2 * c + 1] + (c == label ? dLossDp[2 * c] : 0)
                    dot += dp[c] * Double(probabilities.storage[base + c * p])
                }
                for c in 0..<k {
                    let q = Double(probabilities.storage[base + c * p])
                    gradient.storage[base + c * p] = Float(q * (dp[c] - dot))
                }
            }
        }
        return (Float(1 - score / Double(k)), gradient)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
