import Testing
import Foundation
import CleaveCore
import CleaveFormats
import CleaveLearning
import CleavePipelines
import CleaveTestSupport

@Suite struct PatchScoringTests {
    static let labelsPath = "tem-microcrystals/dataset1-graphite-30kx/patch-labels.csv"

    /// Clusters that follow the hand labels (A→0, B→1, C→2) except every 7th patch, shifted by one.
    static func clusters(from path: String) throws -> [PatchKey: Int] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst()
        var out = [PatchKey: Int]()
        for (i, line) in lines.enumerated() {
            let f = line.split(separator: ",").map(String.init)
            var c = ["A": 0, "B": 1, "C": 2][f[5]] ?? 3
            if i % 7 == 0 { c = (c + 1) % 3 }
            out[PatchKey(image: "/elsewhere/" + f[0], row: Int(f[3])!, column: Int(f[4])!)] = c
        }
        return out
    }

    // t = [r['class'] for r in csv.DictReader(open(labels))]; p = the clusters above
    // M.adjusted_rand_score(t,p), M.adjusted_mutual_info_score(t,p), M.normalized_mutual_info_score(t,p),
    // M.homogeneity_completeness_v_measure(t,p)
    // → 0.6059106458410135 0.5419581845241587 0.5560662349935663 (0.6082150059127389, 0.5121538162299499, 0.5560662349935663)
    @Test(.enabled(if: TestData.isAvailable, "needs ../shared/data")) func realLabelsMatchScikitLearn() throws {
        let path = TestData.path(Self.labelsPath)
        let labels = try PatchLabels(path: path)
        #expect(labels.classes.count == 96)
        let report = try labels.score(try Self.clusters(from: path))
        let s = report.scores
        #expect(abs(s.adjustedRandIndex - 0.6059106458410135) < 1e-12)
        #expect(abs(s.adjustedMutualInformation - 0.5419581845241587) < 1e-12)
        #expect(abs(s.normalizedMutualInformation - 0.5560662349935663) < 1e-12)
        #expect(abs(s.homogeneity - 0.6082150059127389) < 1e-12 && abs(s.completeness - 0.5121538162299499) < 1e-12)
        #expect(report.classNames == ["A", "B", "C"])
        #expect(s.contingency == [[63, 10, 0], [0, 8, 2], [2, 0, 11]])
        #expect(report.text().contains("ARI                 0.605911"))
        #expect(try report.json().contains("\"v_measure\""))
    }

    @Test func patchTableRoundTripAndErrors() throws {
        let dir = TestData.scratchDirectory("patch-scoring")
        let table = dir + "/patches.csv"
        try """
        image,row,col,x,y,width,height,cluster,mean
        a.tif,0,0,0,0,5,5,1,0.5
        a.tif,0,1,5,0,5,5,1,0.5
        b.tif,0,0,0,0,5,5,0,0.1
        """.write(toFile: table, atomically: true, encoding: .utf8)
        let clusters = try readPatchClusters(path: table)
        #expect(clusters[PatchKey(image: "x/a.tif", row: 0, column: 1)] == 1)

        let labels = try PatchLabels(csv: "image,grid_rows,grid_cols,row,col,class\na.tif,1,2,0,0,X\na.tif,1,2,0,1,X\nb.tif,1,1,0,0,Y\n")
        #expect(try labels.score(clusters).scores.adjustedRandIndex == 1)

        // A labelled tile the clustering does not know, and a labelled patch outside its grid.
        let unknown = try PatchLabels(csv: "image,row,col,class\nc.tif,0,0,X\n", path: "t.csv")
        #expect(throws: ScoringError.unknownTile(path: "t.csv", line: 2, image: "c.tif", row: 0, column: 0,
                                                 reason: "but the patch table has no image named c.tif")) {
            try unknown.score(clusters)
        }
        let missingPatch = try PatchLabels(csv: "image,row,col,class\na.tif,3,3,X\n", path: "t.csv")
        #expect(throws: ScoringError.self) { try missingPatch.score(clusters) }
        #expect(throws: ScoringError.self) { try PatchLabels(csv: "image,grid_rows,grid_cols,row,col,class\na.tif,2,2,2,0,X\n") }
        #expect(throws: ScoringError.self) { try PatchLabels(csv: "image,row,col\na.tif,0,0\n") }
        #expect(throws: ScoringError.self) { try PatchLabels(csv: "image,row,col,class\na.tif,zero,0,X\n") }
        #expect(throws: ScoringError.self) { try PatchLabels(path: dir + "/missing.csv") }
    }
}

@Suite struct LabelImageScoringTests {
    // t = tifffile.imread('labels/Sandstone_Versa0100.tif').ravel(); i = np.arange(t.size)
    // p = np.where(i % 11 == 0, t % 4 + 1, t); p = np.where(i % 97 == 0, 0, p); cls = [1, 2, 3, 4]
    // M.confusion_matrix / jaccard_score / f1_score / precision_score / recall_score(t, p, labels=cls, average=None)
    @Test(.enabled(if: TestData.isAvailable, "needs ../shared/data")) func sandstoneMatchesScikitLearn() throws {
        let truthPath = TestData.path("sandstone-xrm/labels/Sandstone_Versa0100.tif")
        guard case .uint8(let truth) = try ImageFile.read(truthPath) else { Issue.record("expected uint8 labels"); return }
        var predicted = truth
        for i in predicted.pixels.indices {
            if i % 11 == 0 { predicted.pixels[i] = truth.pixels[i] % 4 + 1 }
            if i % 97 == 0 { predicted.pixels[i] = 0 }
        }
        let predictedPath = TestData.scratchDirectory("label-scoring") + "/predicted.tif"
        try ImageFile.write(predicted, to: predictedPath)
        let s = try scoreLabelImages(truthPath: truthPath, predictedPath: predictedPath, classes: [1, 2, 3, 4])
        #expect(s.confusion == [[455120, 45538, 0, 0], [0, 431127, 43093, 0], [0, 0, 25111, 2503], [629, 0, 0, 6268]])
        let iou = [0.8985853480359735, 0.8216591100108062, 0.3536362100045065, 0.6618097349804667]
        let f1 = [0.9465840963805304, 0.9020997457706914, 0.5224981533307671, 0.7964927886142703]
        let precision = [0.998619854349653, 0.9044654002286722, 0.3681748871033957, 0.7146277505415574]
        let recall = [0.8997026821862348, 0.8997464339006397, 0.8995522120723626, 0.899540757749713]
        for c in 0..<4 {
            #expect(abs(s.iou[c] - iou[c]) < 1e-12 && abs(s.dice[c] - f1[c]) < 1e-12)
            #expect(abs(s.precision[c] - precision[c]) < 1e-12 && abs(s.recall[c] - recall[c]) < 1e-12)
        }
        #expect(abs(s.pixelAccuracy - 0.8997180126757028) < 1e-12 && abs(s.meanIoU - 0.6839226007579382) < 1e-12)
        #expect(s.text().contains("mean IoU            0.683923"))
    }

    @Test func shapeMismatchAndFloatLabels() throws {
        let dir = TestData.scratchDirectory("label-scoring-errors")
        try ImageFile.write(Image<UInt8>(width: 4, height: 3, repeating: 1), to: dir + "/a.tif")
        try ImageFile.write(Image<UInt8>(width: 3, height: 4, repeating: 1), to: dir + "/b.tif")
        #expect(throws: ScoringError.self) { try scoreLabelImages(truthPath: dir + "/a.tif", predictedPath: dir + "/b.tif") }
        var float = Image<Float>(width: 4, height: 3, repeating: 1)
        try ImageFile.write(float, to: dir + "/f.tif")
        #expect(try scoreLabelImages(truthPath: dir + "/a.tif", predictedPath: dir + "/f.tif").pixelAccuracy == 1)
        float.pixels[5] = 1.5
        try ImageFile.write(float, to: dir + "/g.tif")
        #expect(throws: ScoringError.nonIntegerLabel(path: dir + "/g.tif", index: 5, value: 1.5)) {
            try scoreLabelImages(truthPath: dir + "/a.tif", predictedPath: dir + "/g.tif")
        }
    }
}
