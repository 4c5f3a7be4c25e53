import Testing
import CleaveCore
import CleaveNeural

/// Forward results against numbers computed in Python (numpy / scipy), snippets in comments.
/// Inputs are sin sequences so the snippets can rebuild them exactly:
///   def seq(n, a, b, s=1.0): return (np.sin(a*np.arange(n)+b)*s).astype(np.float32)
@Suite struct ForwardReferenceTests {
    /// x = seq(40, 0.37, 0.1).reshape(1,2,4,5); w = seq(54, 0.53, 0.2, 0.3).reshape(3,2,3,3); b = [0.1,-0.2,0.3]
    /// y[0,co] = Σ_ci scipy.signal.correlate(np.pad(x[0,ci],1), w[co,ci], mode='valid') + b[co]
    /// y.ravel()[[0,7,19,20,33,59]] → [0.247304, 0.084248, 0.503485, -0.337476, -0.062814, 0.652884]
    @Test func convolutionMatchesScipy() {
        let probe = LayerProbe(.convolution(inputChannels: 2, outputChannels: 3, kernelSize: 3, bias: true))
        probe.setParameter("weight", sequence(54, 0.53, 0.2, 0.3))
        probe.setParameter("bias", [0.1, -0.2, 0.3])
        let y = probe.forward(Tensor(batch: 1, channels: 2, height: 4, width: 5, storage: sequence(40, 0.37, 0.1)))
        let expected: [(Int, Float)] = [(0, 0.247304), (7, 0.084248), (19, 0.503485), (20, -0.337476), (33, -0.062814), (59, 0.652884)]
        for (i, value) in expected { #expect(abs(y.storage[i] - value) < 2e-5, "y[\(i)] = \(y.storage[i]), scipy \(value)") }
    }

    /// x = seq(36, 0.71, 0.3, 2.0).reshape(2,3,2,3); g = [1.5,0.5,-1.0]; b = [0.1,0.0,0.2]
    /// m = x.mean((0,2,3), keepdims=True); v = x.var((0,2,3), keepdims=True)
    /// np.maximum(0, (x-m)/np.sqrt(v+1e-5)*g[:,None,None] + b[:,None,None]).ravel()
    /// running stats after one step (momentum 0.1, unbiased variance): 0.1*m, 0.9 + 0.1*x.var(ddof=1)
    @Test func batchNormMatchesNumpy() {
        let probe = LayerProbe(.normalizedReLU(channels: 3, normalization: .batch))
        probe.setParameter("weight", [1.5, 0.5, -1.0])
        probe.setParameter("bias", [0.1, 0.0, 0.2])
        let x = Tensor(batch: 2, channels: 3, height: 2, width: 3, storage: sequence(36, 0.71, 0.3, 2.0))
        let y = probe.forward(x, training: true)
        let expected: [Float] = [0.01026, 1.40406, 1.7632, 0.91413, 0.0, 0.0, 0.0, 0.0, 0.0, 0.21373, 0.5377, 0.58195,
                                 0.0, 0.0, 0.87296, 1.40786, 0.99015, 0.0, 0.50533, 1.64046, 1.62669, 0.47068, 0.0, 0.0,
                                 0.0, 0.0, 0.0, 0.33334, 0.58443, 0.53321, 0.0, 0.05527, 1.12716, 1.38211, 0.69689, 0.0]
        for i in 0..<36 { #expect(abs(y.storage[i] - expected[i]) < 2e-5, "y[\(i)] = \(y.storage[i]), numpy \(expected[i])") }
        let mean = probe.parameter("running_mean"), variance = probe.parameter("running_var")
        for (a, b) in zip(mean, [Float(0.066203), 0.012768, -0.077365]) { #expect(abs(a - b) < 1e-5) }
        for (a, b) in zip(variance, [Float(1.053612), 1.162991, 1.012075]) { #expect(abs(a - b) < 1e-5) }
        // Inference with the running statistics: y = max(0, γ(x − rm)/√(rv + ε) + β).
        let inferred = probe.forward(x, training: false)
        let manual = Float(max(0, 1.5 * (x.storage[1] - mean[0]) / (variance[0] + 1e-5).squareRoot() + 0.1))
        #expect(abs(inferred.storage[1] - manual) < 1e-5)
    }

    /// xg = seq(24, 0.29, 0.4, 3.0).reshape(1,4,2,3); gg = [1,2,0.5,-1]; bg = [0,0.1,0.2,0.3]
    /// r = xg.reshape(1,2,-1); yg = ((r-r.mean(-1,keepdims=True))/np.sqrt(r.var(-1,keepdims=True)+1e-5)).reshape(1,4,2,3)
    /// np.maximum(0, yg*gg[:,None,None] + bg[:,None,None]).ravel()
    @Test func groupNormMatchesNumpy() {
        let probe = LayerProbe(.normalizedReLU(channels: 4, normalization: .group(2)))
        probe.setParameter("weight", [1.0, 2.0, 0.5, -1.0])
        probe.setParameter("bias", [0.0, 0.1, 0.2, 0.3])
        let y = probe.forward(Tensor(batch: 1, channels: 4, height: 2, width: 3, storage: sequence(24, 0.29, 0.4, 3.0)), training: false)
        let expected: [Float] = [0.0, 0.26509, 0.69926, 0.97817, 1.07854, 0.99199, 1.55149, 0.70407, 0.0, 0.0, 0.0, 0.0,
                                 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.65677, 0.21898, 0.0, 0.0, 0.0, 0.0]
        for i in 0..<24 { #expect(abs(y.storage[i] - expected[i]) < 2e-5, "y[\(i)] = \(y.storage[i]), numpy \(expected[i])") }
    }

    /// PyTorch's align_corners=False rule in numpy (checked against torch.nn.functional.interpolate):
    ///   def up1(a, axis):
    ///     L = a.shape[axis]; out = []
    ///     for j in range(2*L):
    ///       s = max((j+0.5)/2-0.5, 0.0); i0 = int(np.floor(s)); i1 = min(i0+1, L-1); l = s-i0
    ///       out.append((1-l)*np.take(a,i0,axis) + l*np.take(a,i1,axis))
    ///     return np.stack(out, axis)
    ///   up1(up1(seq(12, 0.9, 0.2).reshape(3,4), 0), 1).ravel()[[0,1,9,14,30,47]]
    ///   → [0.198669, 0.371804, 0.101634, 0.305952, -0.100628, -0.625071]
    @Test func bilinearMatchesPyTorchRule() {
        let probe = LayerProbe(.bilinearUpsample)
        let y = probe.forward(Tensor(batch: 1, channels: 1, height: 3, width: 4, storage: sequence(12, 0.9, 0.2)))
        #expect(y.height == 6 && y.width == 8)
        let expected: [(Int, Float)] = [(0, 0.198669), (1, 0.371804), (9, 0.101634), (14, 0.305952), (30, -0.100628), (47, -0.625071)]
        for (i, value) in expected { #expect(abs(y.storage[i] - value) < 1e-5, "y[\(i)] = \(y.storage[i]), numpy \(value)") }
    }

    @Test func maxPoolAndTransposedConvolutionByHand() {
        let pool = LayerProbe(.maxPool)
        let x = Tensor(batch: 1, channels: 1, height: 2, width: 4, storage: [1, 5, -1, -2, 3, 2, -3, -0.5])
        #expect(pool.forward(x).storage == [5, -0.5])
        // Transposed 2×2 stride 2 with Ci = 1, Co = 1: each input pixel stamps w·x + b into its 2×2 block.
        let t = LayerProbe(.transposedConvolution(inputChannels: 1, outputChannels: 1))
        t.setParameter("weight", [1, 2, 3, 4]); t.setParameter("bias", [0.5])
        let y = t.forward(Tensor(batch: 1, channels: 1, height: 1, width: 2, storage: [1, -1]))
        #expect(y.storage == [1.5, 2.5, -0.5, -1.5, 3.5, 4.5, -2.5, -3.5])
    }
}
