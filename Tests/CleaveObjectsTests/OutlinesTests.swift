import Testing
import CleaveCore
import CleaveObjects

@Suite struct OutlinesTests {
    @Test(arguments: [Connectivity.faces, .full])
    func rasterisedOutlinesEqualLabels(connectivity: Connectivity) throws {
        // The pattern has diagonal pinches, holes and objects touching the image edge.
        let shape = Shape(width: 203, height: 150)
        let labels = ConnectedComponents.label(mask: Patterns.mask2D(width: 203, height: 150), shape: shape, connectivity: connectivity)
        let outlines = try Outlines.trace(labels)
        #expect(outlines.count == labels.objectCount)
        let back = Outlines.rasterise(outlines, width: 203, height: 150)
        #expect(back.labels == labels.labels)
    }

    @Test func randomTouchingInstancesRoundTrip() throws {
        var rng = SeededGenerator(seed: 3)
        let width = 90, height = 70
        let keys = (0..<(width * height)).map { _ in UInt32(rng.next(below: 4)) }
        let labels = ConnectedComponents.label(keys: keys, shape: Shape(width: width, height: height), connectivity: .full)
        let back = Outlines.rasterise(try Outlines.trace(labels), width: width, height: height)
        #expect(back.labels == labels.labels)
    }

    @Test func ringHasOneHoleAndPositiveExterior() throws {
        var labels = [Int32](repeating: 0, count: 8 * 8)
        for y in 1...6 { for x in 1...6 where !(3...4).contains(x) || !(3...4).contains(y) { labels[y * 8 + x] = 1 } }
        let outline = try Outlines.trace(LabelImage(shape: Shape(width: 8, height: 8), labels: labels, objectCount: 1))[0]
        #expect(outline.polygons.count == 1)
        let polygon = outline.polygons[0]
        #expect(polygon.exterior.map { [$0.x, $0.y] } == [[1, 1], [7, 1], [7, 7], [1, 7], [1, 1]])
        #expect(polygon.holes.count == 1)
        #expect(polygon.holes[0].count == 5)
    }

    @Test func volumesHaveNoOutlines() {
        let labels = LabelImage(shape: Shape(width: 2, height: 2, depth: 2), labels: [Int32](repeating: 1, count: 8), objectCount: 1)
        #expect(throws: ObjectsError.self) { try Outlines.trace(labels) }
    }
}

@Suite struct TouchingObjectsTests {
    @Test func twoOverlappingDiscsSplitIntoTwo() {
        let width = 80, height = 50
        var labels = [Int32](repeating: 0, count: width * height)
        Patterns.disc(&labels, width: width, cx: 25, cy: 25, radius: 14, label: 1)
        Patterns.disc(&labels, width: width, cx: 49, cy: 25, radius: 14, label: 1)
        Patterns.disc(&labels, width: width, cx: 72, cy: 8, radius: 5, label: 2)
        let image = LabelImage(shape: Shape(width: width, height: height), labels: labels, objectCount: 2)
        let split = TouchingObjects.split(image, h: 1)
        #expect(split.objectCount == 3)
        // the neck is at x = 37: left pixels go to one grain, right to another
        let left = split.labels[25 * width + 20], right = split.labels[25 * width + 55]
        #expect(left != 0 && right != 0 && left != right)
        #expect(split.pixelCounts().reduce(0, +) == width * height)
        // a large h keeps them together
        #expect(TouchingObjects.split(image, h: 20).objectCount == 2)
    }

    @Test func splitWorksInThreeD() {
        let n = 40
        var labels = [Int32](repeating: 0, count: n * n * 24)
        for z in 0..<24 { for y in 0..<n { for x in 0..<n {
            let d1 = pow2(Double(x) - 12) + pow2(Double(y) - 20) + pow2(Double(z) - 12)
            let d2 = pow2(Double(x) - 28) + pow2(Double(y) - 20) + pow2(Double(z) - 12)
            if d1 <= 100 || d2 <= 100 { labels[(z * n + y) * n + x] = 1 }
        }}}
        let image = LabelImage(shape: Shape(width: n, height: n, depth: 24), labels: labels, objectCount: 1)
        #expect(TouchingObjects.split(image, h: 1).objectCount == 2)
    }

    func pow2(_ v: Double) -> Double { v * v }
}

@Suite struct ClassificationRulesTests {
    func table() -> ObjectTable {
        var t = ObjectTable(labels: [1, 2, 3, 4])
        t.setColumn("area", [10, 80, 400, 60])
        t.setColumn("equivalent_diameter_um", [20, 150, 350, 100])
        t.setColumn("eccentricity", [0.2, 0.95, 0.5, .nan])
        return t
    }

    @Test func firstMatchingRuleWins() throws {
        let rules = try ClassificationRules("""
        equivalent_diameter_um > 300 -> phenocryst   # big ones
        area < 50 -> microlite
        eccentricity >= 0.9 and area > 20 -> needle
        else -> sub-phenocryst
        """)
        #expect(try rules.classify(table()) == ["microlite", "needle", "phenocryst", "sub-phenocryst"])
        #expect(rules.classNames == ["phenocryst", "microlite", "needle", "sub-phenocryst"])
    }

    @Test func orAndSemicolonsAndNoElse() throws {
        let rules = try ClassificationRules("area < 20 or area > 300 -> extreme; eccentricity != 0.5 -> other")
        #expect(try rules.classify(table()) == ["extreme", "other", "extreme", ""])
    }

    @Test func unknownMeasurementListsValidNames() throws {
        let rules = try ClassificationRules("diameter > 3 -> big")
        do {
            _ = try rules.classify(table())
            Issue.record("expected an error")
        } catch let error as ObjectsError {
            #expect(error.description.contains("unknown measurement 'diameter'"))
            #expect(error.description.contains("equivalent_diameter_um"))
        }
    }

    @Test func twoDimensionalMeasureOnVolumeIsExplained() throws {
        var t = ObjectTable(labels: [1])
        t.setColumn("volume", [10])
        do {
            _ = try ClassificationRules("perimeter > 3 -> big").classify(t)
            Issue.record("expected an error")
        } catch let error as ObjectsError {
            #expect(error.description.contains("2D only"))
        }
    }

    @Test(arguments: ["area 3 -> x", "area > three -> x", "area > 3 ->", "area > 3"])
    func malformedRulesAreRejected(text: String) {
        #expect(throws: ObjectsError.self) { try ClassificationRules(text) }
    }
}
