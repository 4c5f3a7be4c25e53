import Testing
import CleaveCore
import CleaveNeural
import Foundation

@Suite struct UNetTests {
    /// Whole-network check: ∂(cross-entropy)/∂θ and ∂/∂input of a depth-2, width-4 U-Net against
    /// central finite differences, for every normalisation and up-sampling variant.
    @Test(arguments: [
        UNetConfiguration(inputChannels: 2, classes: 3, depth: 2, baseWidth: 4, normalization: .batch, upsampling: .bilinear),
        UNetConfiguration(inputChannels: 2, classes: 3, depth: 2, baseWidth: 4, normalization: .group(2), upsampling: .transposed),
        UNetConfiguration(inputChannels: 1, classes: 2, depth: 3, baseWidth: 4, normalization: .none, upsampling: .bilinear),
    ])
    func wholeNetworkGradient(configuration: UNetConfiguration) throws {
        let net = try UNet(configuration: configuration, seed: 3)
        let x = randomTensor(2, configuration.inputChannels, 8, 8, seed: 4)
        var g = SeededGenerator(seed: 5)
        let labels = (0..<(2 * 64)).map { _ in Int32(g.next(below: configuration.classes + 1)) - 1 }
        func loss(_ network: UNet, _ input: Tensor) -> Double {
            Double(Loss.softmaxCrossEntropy(logits: network.forward(input, training: true), labels: labels).loss)
        }
        let (_, gradient) = Loss.softmaxCrossEntropy(logits: net.forward(x, training: true), labels: labels)
        net.zeroGradients()
        net.backward(gradient)
        let weights = net.weights()
        let gradients = net.gradients()
        let probe = try UNet(weights: weights)
        var worst = 0.0, checked = 0
        for (index, array) in weights.arrays.enumerated() where !array.name.contains("running") {
            let analytic = gradients.arrays[index].values
            let report = checkGradient(values: array.values, indices: sampleIndices(array.values.count, 4, seed: UInt64(index)),
                                       analytic: analytic, epsilon: 3e-3, normRelative: false) { v in
                var w = weights
                w.arrays[index].values = v
                try! probe.load(w)
                return loss(probe, x)
            }
            worst = max(worst, report.worst)
            checked += report.checked
            #expect(report.worst < 2e-2, "\(array.name): worst relative error \(report.worst)")
        }
        #expect(checked > 40)
        // Input gradient.
        net.zeroGradients()
        _ = net.forward(x, training: true)
        let dx = net.backward(gradient, inputGradient: true)!
        try probe.load(weights)
        let inputReport = checkGradient(values: x.storage, indices: sampleIndices(x.count, 12, seed: 77), analytic: dx.storage,
                                        epsilon: 3e-3, normRelative: false) { v in
            loss(probe, Tensor(batch: x.batch, channels: x.channels, height: 8, width: 8, storage: v))
        }
        #expect(inputReport.worst < 2e-2, "input: worst relative error \(inputReport.worst)")
        // A small step along −∇θ lowers the loss.
        var stepped = weights
        for (index, array) in weights.arrays.enumerated() where !array.name.contains("running") {
            for i in 0..<array.values.count { stepped.arrays[index].values[i] -= 1e-3 * gradients.arrays[index].values[i] }
        }
        try probe.load(weights)
        let before = loss(probe, x)
        try probe.load(stepped)
        #expect(loss(probe, x) < before)
    }

    /// Inference frees each activation once it has been read (memory of a tile's widest moment,
    /// not of every layer): the logits equal a training forward's bit for bit where the two
    /// compute the same thing (group or no normalisation, no dropout), repeated and larger
    /// inference passes agree, and a training step after inference gives the same gradients as
    /// one on a network that never ran inference.
    @Test(arguments: [
        UNetConfiguration(inputChannels: 2, classes: 3, depth: 3, baseWidth: 4, normalization: .group(2), upsampling: .transposed),
        UNetConfiguration(inputChannels: 1, classes: 2, depth: 2, baseWidth: 4, normalization: .none, upsampling: .bilinear),
        UNetConfiguration(inputChannels: 1, classes: 2, depth: 1, baseWidth: 4, normalization: .group(2), upsampling: .bilinear),
    ])
    func inferenceThatFreesActivationsEqualsTrainingForward(configuration: UNetConfiguration) throws {
        let net = try UNet(configuration: configuration, seed: 7)
        let small = randomTensor(2, configuration.inputChannels, 8, 12, seed: 8)
        let large = randomTensor(1, configuration.inputChannels, 16, 16, seed: 9)
        let trained = net.forward(small, training: true).storage
        let inferred = net.forward(small, training: false).storage
        #expect(inferred == trained)
        let largeFirst = net.forward(large, training: false).storage
        #expect(net.forward(small, training: false).storage == inferred)
        #expect(net.forward(large, training: false).storage == largeFirst)
        let fresh = try UNet(weights: net.weights())
        #expect(fresh.forward(large, training: true).storage == largeFirst)
        // Gradients after inference passes = gradients of a network that only trained.
        var g = SeededGenerator(seed: 10)
        let labels = (0..<(2 * 96)).map { _ in Int32(g.next(below: configuration.classes)) }
        func gradients(_ network: UNet) -> [[Float]] {
            let (_, gradient) = Loss.softmaxCrossEntropy(logits: network.forward(small, training: true), labels: labels)
            network.zeroGradients()
            network.backward(gradient)
            return network.gradients().arrays.map(\.values)
        }
        let other = try UNet(weights: net.weights())
        #expect(gradients(net) == gradients(other))
    }

    @Test func sameSeedSameWeightsWhateverTheThreadCount() throws {
        func train(threads: Int) throws -> UNetWeights {
            let saved = Parallel.threadCount
            Parallel.threadCount = threads
            defer { Parallel.threadCount = saved }
            let configuration = UNetConfiguration(inputChannels: 2, classes: 3, depth: 3, baseWidth: 8, dropout: 0.2)
            let net = try UNet(configuration: configuration, seed: 42)
            var optimizer = AdamW(learningRate: 1e-2, weightDecay: 1e-2)
            var g = SeededGenerator(seed: 9)
            let labels = (0..<(4 * 32 * 32)).map { _ in Int32(g.next(below: 4)) - 1 }
            let x = randomTensor(4, 2, 32, 32, seed: 8)
            for _ in 0..<3 {
                net.zeroGradients()
                let (_, gradient) = Loss.softmaxCrossEntropy(logits: net.forward(x, training: true), labels: labels)
                net.backward(gradient)
                optimizer.step(net)
            }
            return net.weights()
        }
        let one = try train(threads: 1)
        let two = try train(threads: 2)
        let again = try train(threads: 2)
        #expect(one == two)
        #expect(two == again)
        let other = try UNet(configuration: one.configuration, seed: 43).weights()
        #expect(other != one)
    }

    @Test func parameterCountMatchesPyTorch() throws {
        // The bench/unet-engine PyTorch model (depth 4, width 16, batch norm, bilinear, 3 → 4 classes):
        // sum(p.numel() for p in model.parameters()) → 536,548.
        let net = try UNet(configuration: UNetConfiguration(inputChannels: 3, classes: 4), seed: 0)
        #expect(net.parameterCount == 536_548)
    }

    @Test func weightsRoundTripAndClearErrors() throws {
        let configuration = UNetConfiguration(inputChannels: 3, classes: 2, depth: 2, baseWidth: 4)
        let net = try UNet(configuration: configuration, seed: 1)
        let weights = net.weights()
        let data = try JSONDecoder().decode(UNetWeights.self, from: JSONEncoder().encode(weights))
        #expect(data == weights)
        #expect(try UNet(weights: weights).weights() == weights)
        var broken = weights
        broken.arrays[0].values.removeLast()
        #expect(throws: UNetError.self) { try UNet(weights: broken) }
        do { _ = try UNet(weights: broken); Issue.record("no error") } catch {
            #expect("\(error)".contains("encoder0.conv1.weight"))
        }
        var missing = weights
        missing.arrays.removeLast()
        #expect(throws: UNetError.self) { try UNet(weights: missing) }
        #expect(throws: UNetError.invalidConfiguration(field: "inputChannels", value: "0", reason: "must be in 1...4096")) { try UNet(configuration: UNetConfiguration(inputChannels: 0, classes: 2), seed: 0) }
        #expect(throws: UNetError.self) { try UNet(configuration: UNetConfiguration(inputChannels: 1, classes: 2, baseWidth: 6, normalization: .group(4)), seed: 0) }
        #expect(throws: UNetError.self) { try UNet(configuration: UNetConfiguration(inputChannels: 1, classes: 2, dropout: 1), seed: 0) }
        #expect(UNetConfiguration(inputChannels: 1, classes: 2, depth: 4).sizeMultiple == 8)
    }

    /// A depth-2 U-Net learns bright noisy disks vs background to > 95 % pixel accuracy.
    @Test func learnsDisks() throws {
        func sample(_ g: inout SeededGenerator, batch: Int, size: Int) -> (Tensor, [Int32]) {
            var x = Tensor(batch: batch, channels: 1, height: size, width: size)
            var labels = [Int32](repeating: 0, count: batch * size * size)
            for n in 0..<batch {
                var disks: [(Double, Double, Double)] = []
                for _ in 0..<3 { disks.append((g.nextDouble() * Double(size), g.nextDouble() * Double(size), 3 + 4 * g.nextDouble())) }
                for y in 0..<size {
                    for xx in 0..<size {
                        let inside = disks.contains { (Double(xx) - $0.0) * (Double(xx) - $0.0) + (Double(y) - $0.1) * (Double(y) - $0.1) <= $0.2 * $0.2 }
                        labels[(n * size + y) * size + xx] = inside ? 1 : 0
                        x[n, 0, y, xx] = Float((inside ? 1.0 : 0.0) + 0.35 * g.nextGaussian())
                    }
                }
            }
            return (x, labels)
        }
        let net = try UNet(configuration: UNetConfiguration(inputChannels: 1, classes: 2, depth: 2, baseWidth: 8), seed: 1)
        var optimizer = AdamW(learningRate: 1e-2)
        var g = SeededGenerator(seed: 2)
        for _ in 0..<60 {
            let (x, labels) = sample(&g, batch: 4, size: 32)
            net.zeroGradients()
            let (_, gradient) = Loss.softmaxCrossEntropy(logits: net.forward(x, training: true), labels: labels)
            net.backward(gradient)
            optimizer.step(net)
        }
        let (x, labels) = sample(&g, batch: 4, size: 32)
        let logits = net.forward(x, training: false)
        var correct = 0
        for n in 0..<4 {
            for i in 0..<(32 * 32) {
                let predicted: Int32 = logits[n, 1, i / 32, i % 32] > logits[n, 0, i / 32, i % 32] ? 1 : 0
                if predicted == labels[n * 1024 + i] { correct += 1 }
            }
        }
        let accuracy = Double(correct) / 4096
        #expect(accuracy > 0.95, "accuracy \(accuracy)")
    }
}
