import Testing
import CleaveCore
import CleaveNeural

@Suite struct LossTests {
    /// logits = seq(2*3*2*2, 0.61, 0.2, 2.0).reshape(2,3,2,2); labels = [[0,2],[-1,1]], [[1,-1],[2,0]]
    /// torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(labels), ignore_index=-1) → 2.268646240234375
    /// ... weight=torch.tensor([0.5, 2.0, 1.0]) → 2.759733200073242
    /// loss_dice: 1 - mean_c (2Σp·g + 1)/(Σp + Σg + 1) over labelled pixels (numpy) → 0.6403623630671131
    @Test func crossEntropyAndDiceValues() {
        let logits = Tensor(batch: 2, channels: 3, height: 2, width: 2, storage: sequence(24, 0.61, 0.2, 2.0))
        let labels: [Int32] = [0, 2, -1, 1, 1, -1, 2, 0]
        let plain = Loss.softmaxCrossEntropy(logits: logits, labels: labels)
        #expect(abs(plain.loss - 2.2686462) < 1e-5, "CE \(plain.loss)")
        let weighted = Loss.softmaxCrossEntropy(logits: logits, labels: labels, classWeights: [0.5, 2.0, 1.0])
        #expect(abs(weighted.loss - 2.7597332) < 1e-5, "weighted CE \(weighted.loss)")
        let dice = Loss.dice(logits: logits, labels: labels)
        #expect(abs(dice.loss - 0.64036236) < 1e-5, "Dice \(dice.loss)")
        // Ignored pixels get no gradient.
        for c in 0..<3 {
            #expect(plain.gradient[0, c, 1, 0] == 0 && dice.gradient[1, c, 0, 1] == 0)
        }
    }

    @Test func gradientsMatchFiniteDifferences() {
        let logits = randomTensor(2, 4, 3, 3, seed: 11, scale: 2)
        var g = SeededGenerator(seed: 12)
        let labels = (0..<18).map { _ in Int32(g.next(below: 5)) - 1 }
        func f(_ make: (Tensor) -> (loss: Float, gradient: Tensor)) {
            let analytic = make(logits).gradient
            let report = checkGradient(values: logits.storage, indices: Array(0..<logits.count), analytic: analytic.storage,
                                       epsilon: 1e-2) { v in
                Double(make(Tensor(batch: 2, channels: 4, height: 3, width: 3, storage: v)).loss)
            }
            #expect(report.worst < 2e-3, "worst \(report.worst)")
        }
        f { Loss.softmaxCrossEntropy(logits: $0, labels: labels) }
        f { Loss.softmaxCrossEntropy(logits: $0, labels: labels, classWeights: [1, 3, 0.5, 2]) }
        f { Loss.dice(logits: $0, labels: labels) }
    }

    @Test func softmaxSumsToOneAndNoLabelsGivesZero() {
        let p = Loss.softmax(randomTensor(1, 5, 2, 2, seed: 3, scale: 30))
        for i in 0..<4 {
            let s = (0..<5).reduce(Float(0)) { $0 + p[0, $1, i / 2, i % 2] }
            #expect(abs(s - 1) < 1e-6)
        }
        let none = Loss.softmaxCrossEntropy(logits: randomTensor(1, 3, 2, 2, seed: 1), labels: [-1, -1, -1, -1])
        #expect(none.loss == 0 && none.gradient.storage.allSatisfy { $0 == 0 })
    }
}
