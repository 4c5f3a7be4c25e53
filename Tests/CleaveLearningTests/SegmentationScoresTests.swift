import Testing
import CleaveLearning

@Suite struct SegmentationScoresTests {
    // n = 500
    // t = np.array([(i * i % 17) % 4 for i in range(n)]); p = np.array([(i * i % 17) % 4 if i % 5 else (i % 3) + 1 for i in range(n)])
    // keep = t != 0; tt, pp = t[keep], p[keep]; cls = [1, 2, 3]
    // M.confusion_matrix(tt, pp, labels=cls); M.jaccard_score / f1_score / precision_score / recall_score(tt, pp, labels=cls, average=None)
    // M.accuracy_score(tt, pp); M.jaccard_score(tt, pp, labels=cls, average="macro"); (tt == c).mean(), (pp == c).mean()
    @Test func matchesScikitLearn() throws {
        let truth: [Int32] = (0..<500).map { (i: Int) -> Int32 in Int32((i * i % 17) % 4) }
        let predicted: [Int32] = (0..<500).map { (i: Int) -> Int32 in i % 5 != 0 ? Int32((i * i % 17) % 4) : Int32(i % 3 + 1) }
        let s = try SegmentationScores(truth: truth, predicted: predicted, ignore: 0)
        #expect(s.classes == [1, 2, 3])
        #expect(s.confusion == [[152, 12, 12], [4, 51, 4], [4, 4, 50]])
        #expect(close(s.iou, [0.8260869565217391, 0.68, 0.6756756756756757], 1e-14))
        #expect(close(s.dice, [0.9047619047619048, 0.8095238095238095, 0.8064516129032258], 1e-14))
        #expect(close(s.precision, [0.95, 0.7611940298507462, 0.7575757575757576], 1e-14))
        #expect(close(s.recall, [0.8636363636363636, 0.864406779661017, 0.8620689655172413], 1e-14))
        #expect(close(s.pixelAccuracy, 0.863481228668942, 1e-14))
        #expect(close(s.meanIoU, 0.7272542107324717, 1e-14))
        #expect(s.pixelCount == 293)
        #expect(close(s.trueFractions, [0.6006825938566553, 0.20136518771331058, 0.19795221843003413], 1e-14))
        #expect(close(s.predictedFractions, [0.5460750853242321, 0.22866894197952217, 0.22525597269624573], 1e-14))
    }

    // Class 9 exists in neither input: all its scores are 0 (zero_division=0); labels outside
    // `classes` still count as errors for the scored classes (multilabel_confusion_matrix).
    // M.precision_score([1,1,2,5],[1,5,2,2],labels=[1,2,9],average=None,zero_division=0) == [1, .5, 0]
    // M.recall_score(...) == [.5, 1, 0]; M.accuracy_score == 0.5; M.confusion_matrix(labels=[1,2,9]) == [[1,0,0],[0,1,0],[0,0,0]]
    @Test func classesOutsideAndAbsent() throws {
        let s = try SegmentationScores(truth: [1, 1, 2, 5], predicted: [1, 5, 2, 2], classes: [1, 2, 9])
        #expect(s.precision == [1, 0.5, 0] && s.recall == [0.5, 1, 0] && s.pixelAccuracy == 0.5)
        #expect(s.confusion == [[1, 0, 0], [0, 1, 0], [0, 0, 0]])
        // Wide label values take the dictionary path and must agree.
        let wide = try SegmentationScores(truth: [1, 1, 2, 500_000], predicted: [1, 500_000, 2, 2], classes: [1, 2, 9])
        #expect(wide.precision == s.precision && wide.recall == s.recall && wide.pixelAccuracy == s.pixelAccuracy)
    }

    @Test func rejectsMismatch() {
        #expect(throws: LearningError.lengthMismatch(operation: "SegmentationScores", expected: 2, actual: 1)) {
            try SegmentationScores(truth: [1, 2], predicted: [1])
        }
    }
}
