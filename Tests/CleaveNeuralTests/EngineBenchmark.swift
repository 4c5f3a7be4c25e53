import Testing
import CleaveCore
import CleaveNeural
import Foundation

/// Timing of the issue-7 benchmark shapes; runs only with CLEAVE_BENCH=1 (see bench/unet-engine/run.sh).
/// Prints one JSON line per measurement, wall and process-CPU seconds (median of the repeats).
@Suite struct EngineBenchmark {
    static let enabled = ProcessInfo.processInfo.environment["CLEAVE_BENCH"] == "1"

    static func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    static func measure(_ repeats: Int, _ body: () -> Void) -> (wall: Double, cpu: Double, best: Double) {
        var walls: [Double] = [], cpus: [Double] = []
        for _ in 0..<repeats {
            let w0 = Date(), c0 = cpuSeconds()
            body()
            walls.append(Date().timeIntervalSince(w0))
            cpus.append(cpuSeconds() - c0)
        }
        walls.sort(); cpus.sort()
        return (walls[walls.count / 2], cpus[cpus.count / 2], walls[0])
    }

    @Test(.enabled(if: EngineBenchmark.enabled, "set CLEAVE_BENCH=1"))
    func trainingStepAndInference() throws {
        let env = ProcessInfo.processInfo.environment
        let steps = Int(env["CLEAVE_BENCH_STEPS"] ?? "") ?? 5
        let size = Int(env["CLEAVE_BENCH_INFERENCE_SIZE"] ?? "") ?? 1024
        let repeats = Int(env["CLEAVE_BENCH_INFERENCE_REPEATS"] ?? "") ?? 3
        let net = try UNet(configuration: UNetConfiguration(inputChannels: 3, classes: 4), seed: 0)
        var optimizer = AdamW()
        var g = SeededGenerator(seed: 1)
        let x = Tensor(batch: 8, channels: 3, height: 128, width: 128,
                       storage: (0..<(8 * 3 * 128 * 128)).map { _ in Float(g.nextGaussian()) })
        let labels = (0..<(8 * 128 * 128)).map { _ in Int32(g.next(below: 4)) }
        func step() {
            net.zeroGradients()
            let (_, gradient) = Loss.softmaxCrossEntropy(logits: net.forward(x, training: true), labels: labels)
            net.backward(gradient)
            optimizer.step(net)
        }
        step()
        let train = Self.measure(steps, step)
        let big = Tensor(batch: 1, channels: 3, height: size, width: size,
                         storage: (0..<(3 * size * size)).map { _ in Float(g.nextGaussian()) })
        _ = net.forward(big, training: false)
        let inference = Self.measure(repeats) { _ = net.forward(big, training: false) }
        print("{\"engine\": \"cleave\", \"threads\": \(Parallel.threadCount), \"train_step_wall\": \(train.wall), \"train_step_cpu\": \(train.cpu), \"train_step_best\": \(train.best), \"inference_wall\": \(inference.wall), \"inference_cpu\": \(inference.cpu), \"inference_best\": \(inference.best), \"inference_size\": \(size)}")
    }
}
