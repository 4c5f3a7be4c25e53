import Testing
import CleaveCore
import CleaveNeural

/// Every layer's backward pass against central finite differences of L = Σ r·layer(x)
/// (r a fixed random projection), for the input and for every parameter array.
@Suite struct LayerGradientTests {
    func check(_ kind: LayerProbe.Kind, input: Tensor, tolerance: Double = 2e-2, epsilon: Float = 1e-2,
               setup: ((LayerProbe) -> Void)? = nil) {
        let probe = LayerProbe(kind, seed: 7)
        setup?(probe)
        let y = probe.forward(input)
        let r = randomTensor(y.batch, y.channels, y.height, y.width, seed: 99)
        probe.zeroGradients()
        let dx = probe.backward(r)
        func loss(_ x: [Float]) -> Double {
            let out = probe.forward(Tensor(batch: input.batch, channels: input.channels, height: input.height,
                                           width: input.width, storage: x))
            return dot(out.storage, r.storage)
        }
        let inputReport = checkGradient(values: input.storage, indices: sampleIndices(input.count, 40, seed: 3),
                                        analytic: dx.storage, epsilon: epsilon, loss)
        #expect(inputReport.worst < tolerance, "input gradient of \(kind): worst relative error \(inputReport.worst)")
        for name in probe.parameterNames where !name.hasPrefix("running") {
            let values = probe.parameter(name)
            let analytic = probe.gradient(name)
            let report = checkGradient(values: values, indices: sampleIndices(values.count, 30, seed: 5),
                                       analytic: analytic, epsilon: epsilon) { v in
                probe.setParameter(name, v)
                defer { probe.setParameter(name, values) }
                return loss(input.storage)
            }
            #expect(report.worst < tolerance, "\(name) gradient of \(kind): worst relative error \(report.worst)")
            #expect(analytic.contains { $0 != 0 }, "\(name) gradient is all zero")
        }
    }

    @Test func convolution3x3() {
        check(.convolution(inputChannels: 3, outputChannels: 5, kernelSize: 3, bias: true), input: randomTensor(2, 3, 5, 6, seed: 1))
    }

    @Test func convolution3x3SingleColumnAndRow() {
        check(.convolution(inputChannels: 2, outputChannels: 3, kernelSize: 3, bias: false), input: randomTensor(1, 2, 1, 4, seed: 2))
        check(.convolution(inputChannels: 2, outputChannels: 3, kernelSize: 3, bias: false), input: randomTensor(1, 2, 4, 1, seed: 2))
    }

    @Test func convolution1x1() {
        check(.convolution(inputChannels: 4, outputChannels: 3, kernelSize: 1, bias: true), input: randomTensor(2, 4, 3, 3, seed: 3))
    }

    @Test func batchNormReLU() {
        check(.normalizedReLU(channels: 3, normalization: .batch), input: randomTensor(3, 3, 4, 5, seed: 4), epsilon: 3e-3) { p in
            p.setParameter("weight", [1.5, -0.7, 0.9]); p.setParameter("bias", [0.2, -0.1, 0.05])
        }
    }

    @Test func groupNormReLU() {
        check(.normalizedReLU(channels: 4, normalization: .group(2)), input: randomTensor(2, 4, 3, 5, seed: 5), epsilon: 3e-3) { p in
            p.setParameter("weight", [1.5, -0.7, 0.9, 1.1]); p.setParameter("bias", [0.2, -0.1, 0.05, 0.3])
        }
    }

    @Test func plainReLU() {
        check(.normalizedReLU(channels: 2, normalization: .none), input: randomTensor(2, 2, 3, 4, seed: 6), epsilon: 1e-3)
    }

    @Test func maxPool() {
        check(.maxPool, input: randomTensor(2, 3, 4, 6, seed: 7), epsilon: 1e-3)
    }

    @Test func bilinearUpsample() {
        check(.bilinearUpsample, input: randomTensor(2, 2, 3, 5, seed: 8))
        check(.bilinearUpsample, input: randomTensor(1, 1, 1, 1, seed: 8))
    }

    @Test func transposedConvolution() {
        check(.transposedConvolution(inputChannels: 3, outputChannels: 2), input: randomTensor(2, 3, 3, 4, seed: 9))
    }
}
