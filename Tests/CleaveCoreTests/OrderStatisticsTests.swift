import Testing
import CleaveCore

@Suite struct OrderStatisticsTests {
    /// The binned percentile returns exactly the selection percentile (same order statistics,
    /// same interpolation), for spread, clumped, tied and constant data, and leaves the input alone.
    @Test func percentileByBinsMatchesSelection() {
        var generator = SystemRandomNumberGenerator()
        var bins: [Int32] = [], gather: [Float] = []
        for trial in 0..<60 {
            let count = [1, 2, 3, 17, 1000, 10_000][trial % 6]
            var values: [Float]
            switch trial % 4 {
            case 0: values = (0..<count).map { _ in Float.random(in: 0...1000, using: &generator) }
            case 1: values = (0..<count).map { _ in Float(Int.random(in: 0...5, using: &generator)) }  // many ties
            case 2: values = (0..<count).map { i in i == 0 ? 1e6 : Float.random(in: -1...1, using: &generator) }  // one far outlier
            default: values = [Float](repeating: 3.5, count: count)
            }
            let original = values
            for q in [0.0, 1, 5, 25, 50, 75, 95, 99, 100] {
                var copy = values
                let expected = OrderStatistics.percentile(&copy, q)
                let binned = values.withUnsafeBufferPointer { OrderStatistics.unsafePercentileByBins($0, q, bins: &bins, gather: &gather) }
                #expect(binned == expected, "trial \(trial), count \(count), q \(q)")
            }
            #expect(values == original)
        }
    }
}
