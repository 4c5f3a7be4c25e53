// CleaveLearning: matrices in, models and labels out. No images here (CleavePipelines adapts).
//
//   Matrix (row-major Float, one row per sample)
//     │  Scaler.zScore / .minMax / .robust ── fit → FittedScaler (Codable) ── transform
//     │  PCA(components: .count(n) | .varianceFraction(f)) ── fit → FittedPCA (Codable)
//     │  NMF(componentCount:) ── fitTransform → (FittedNMF, W)
//     ▼
//   KMeans(clusterCount:seed:…) ── fitAssign → (KMeansModel (Codable), labels)
//   Agglomerative(clusterCount:linkage:metric:) ── fit → labels   (≤ 10 000 rows, or k-means fallback)
//   matrix.cosineSimilarity(to:) ── continuous heat
//   silhouette(matrix, labels:metric:sampleSize:seed:) ── choosing k
//   ClusteringScores(truth:predicted:) ── ARI, AMI, NMI, homogeneity, completeness, V-measure
//   SegmentationScores(truth:predicted:classes:ignore:) ── IoU, Dice, precision, recall, accuracy
//
// Every score and transform is checked against scikit-learn in Tests/CleaveLearningTests, with
// the Python that produced the reference numbers in the test comments. Hot loops live in
// Kernels.swift (tiled SIMD8 distances); parallel work is split in chunks that depend on the row
// count only, so results are identical for any thread count.
