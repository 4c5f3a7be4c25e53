import ArgumentParser
import CleaveLearning
import CleavePipelines

/// `--fractions ESTIMATOR`: how `predict` and `transfer` estimate class fractions.
struct FractionOptions: ParsableArguments {
    @Option(name: .customLong("fractions"), help: ArgumentHelp(
        "How class fractions are estimated: cc, pcc, acc or pacc (default \(ClassFractions.defaultEstimator.rawValue)).",
        discussion: """
        cc counts each pixel's most probable class; pcc averages the class probabilities; acc and pacc \
        (adjusted classify and count, Forman 2008; probabilistic adjusted, Bella et al. 2010) undo the \
        classifier's confusions using how the forest's out-of-bag trees classify the training pixels: \
        they assume each class looks on the images as on the training pixels, and fall back to cc/pcc \
        (saying so) when the rate matrix cannot be inverted reliably. class-fractions.csv always lists \
        all four with a 95 % bootstrap interval for the one chosen; the default was chosen on the \
        real-data suite by leave-one-set-out (bench/fractions/RESULTS.md).
        """, valueName: "estimator"))
    var fractions: String = ClassFractions.defaultEstimator.rawValue

    func validate() throws {
        guard FractionEstimator(rawValue: fractions) != nil else {
            throw ValidationError("--fractions must be one of \(FractionEstimator.allCases.map(\.rawValue).joined(separator: ", ")), got '\(fractions)'.")
        }
    }

    /// The chosen estimator (validated).
    var estimator: FractionEstimator { FractionEstimator(rawValue: fractions) ?? ClassFractions.defaultEstimator }

    /// One line: estimated percent per class with its interval.
    static func summary(_ f: ClassFractions) -> String {
        guard let e = f.estimate else {
            return zip(f.classes, f.percents).map { "\($0.name) " + String(format: "%.2f%%", $1) }.joined(separator: ", ")
        }
        return f.classes.indices.map { c in
            var text = "\(f.classes[c].name) " + String(format: "%.2f%%", 100 * e.fractions[c])
            if let lower = e.lower, let upper = e.upper { text += String(format: " [%.2f–%.2f]", 100 * lower[c], 100 * upper[c]) }
            return text
        }.joined(separator: ", ") + " (\(e.used.rawValue))"
    }
}
