extension RandomForest {
    /// Trains a forest on the rows of a matrix (one sample per row); see
    /// ``train(rows:featureCount:labels:configuration:progress:)``.
    public static func train(_ features: Matrix, labels: [Int32],
                             configuration: RandomForestConfiguration = RandomForestConfiguration(),
                             progress: Progress = .silent) throws -> RandomForest {
        try train(rows: features.values, featureCount: features.columns, labels: labels,
                  configuration: configuration, progress: progress)
    }

    /// Probabilities, most probable class and uncertainty for every row of `features`.
    /// - Precondition: `features.columns == featureCount`.
    public func predict(_ features: Matrix) -> ForestPrediction {
        precondition(features.columns == featureCount,
                     "RandomForest.predict: matrix has \(features.columns) columns, the forest \(featureCount) features")
        return predict(rows: features.values)
    }
}

import CleaveCore
