import CleaveCore

/// JSON form of a forest. Node arrays are little-endian blocks in base64 (about 5× smaller and
/// much faster to parse than number arrays):
///
/// ```
/// { "formatVersion": 1, "classes": [1,2,3], "featureCount": 40, "configuration": {…},
///   "featureImportances": […], "outOfBagAccuracy": 0.97,
///   "outOfBagCalibration": {"classCount": 3, "confusion": […], "posteriorSums": […]}, "nodeCount": 123456,
///   "treeStarts": "base64 Int32 × (trees+1)", "nodeFeatures": "base64 Int32 × nodes",
///   "nodeThresholds": "base64 Float32 × nodes", "nodeChildren": "base64 Int32 × nodes",
///   "nodeValues": "base64 Float32 × nodes·classes" }
/// ```
///
/// Decoding checks every index, so a damaged or hand-edited file is an error, never a crash.
extension RandomForest: Codable {
    /// Version of the encoded layout above.
    public static let formatVersion = 1

    enum CodingKeys: String, CodingKey {
        case formatVersion, classes, featureCount, configuration, featureImportances, outOfBagAccuracy, outOfBagCalibration
        case nodeCount, treeStarts, nodeFeatures, nodeThresholds, nodeChildren, nodeValues
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(RandomForest.formatVersion, forKey: .formatVersion)
        try c.encode(classes, forKey: .classes)
        try c.encode(featureCount, forKey: .featureCount)
        try c.encode(configuration, forKey: .configuration)
        try c.encode(featureImportances, forKey: .featureImportances)
        try c.encodeIfPresent(outOfBagAccuracy, forKey: .outOfBagAccuracy)
        try c.encodeIfPresent(outOfBagCalibration, forKey: .outOfBagCalibration)
        try c.encode(nodes.count, forKey: .nodeCount)
        try c.encode(Base64.encode(words: treeStarts.map { UInt32(bitPattern: $0) }), forKey: .treeStarts)
        try c.encode(Base64.encode(words: nodes.map { UInt32(bitPattern: $0.feature) }), forKey: .nodeFeatures)
        try c.encode(Base64.encode(words: nodes.map { $0.threshold.bitPattern }), forKey: .nodeThresholds)
        try c.encode(Base64.encode(words: nodes.map { UInt32(bitPattern: $0.child) }), forKey: .nodeChildren)
        try c.encode(Base64.encode(words: values.map { $0.bitPattern }), forKey: .nodeValues)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func fail(_ key: CodingKeys, _ why: String) -> DecodingError {
            DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "random forest: \(why)")
        }
        let version = try c.decode(Int.self, forKey: .formatVersion)
        guard version == RandomForest.formatVersion else {
            throw fail(.formatVersion, "format version \(version) is not supported (this Cleave reads version \(RandomForest.formatVersion))")
        }
        let classes = try c.decode([Int32].self, forKey: .classes)
        let featureCount = try c.decode(Int.self, forKey: .featureCount)
        let configuration = try c.decode(RandomForestConfiguration.self, forKey: .configuration)
        let importances = try c.decode([Double].self, forKey: .featureImportances)
        let oob = try c.decodeIfPresent(Double.self, forKey: .outOfBagAccuracy)
        let calibration = try c.decodeIfPresent(OutOfBagCalibration.self, forKey: .outOfBagCalibration)
        if let calibration, calibration.classCount != classes.count {
            throw fail(.outOfBagCalibration, "calibration has \(calibration.classCount) classes, the forest \(classes.count)")
        }
        let nodeCount = try c.decode(Int.self, forKey: .nodeCount)
        guard classes.count >= 2, Set(classes).count == classes.count else { throw fail(.classes, "needs at least two distinct classes") }
        guard featureCount >= 1, importances.count == featureCount else { throw fail(.featureCount, "feature count \(featureCount) disagrees with \(importances.count) importances") }
        guard nodeCount >= 1 && nodeCount < Int(Int32.max) else { throw fail(.nodeCount, "node count \(nodeCount) out of range") }

        func words(_ key: CodingKeys, count: Int) throws -> [UInt32] {
            let text = try c.decode(String.self, forKey: key)
            guard let words = Base64.decodeWords(text), words.count == count else {
                throw fail(key, "expected \(count) base64-encoded 32-bit values")
            }
            return words
        }
        let startWords = try c.decode(String.self, forKey: .treeStarts)
        guard let startsRaw = Base64.decodeWords(startWords), startsRaw.count >= 2 else { throw fail(.treeStarts, "needs at least one tree") }
        let starts = startsRaw.map { Int32(bitPattern: $0) }
        let features = try words(.nodeFeatures, count: nodeCount).map { Int32(bitPattern: $0) }
        let thresholds = try words(.nodeThresholds, count: nodeCount).map { Float(bitPattern: $0) }
        let children = try words(.nodeChildren, count: nodeCount).map { Int32(bitPattern: $0) }
        let values = try words(.nodeValues, count: nodeCount * classes.count).map { Float(bitPattern: $0) }

        // Leaf class fractions lie in 0…1 (a NaN or a huge value would pass through every prediction).
        guard values.allSatisfy({ $0 >= 0 && $0 <= 1 }) else { throw fail(.nodeValues, "leaf class fractions must lie in 0…1") }
        guard thresholds.allSatisfy({ !$0.isNaN }) else { throw fail(.nodeThresholds, "thresholds must not be NaN") }
        guard starts.first == 0, starts.last == Int32(nodeCount) else { throw fail(.treeStarts, "tree starts do not cover the nodes") }
        // Strictly increasing from 0 to nodeCount: every tree is a non-empty range of the node arrays.
        for t in 0..<(starts.count - 1) where starts[t] >= starts[t + 1] {
            throw fail(.treeStarts, "tree \(t) starts at node \(starts[t]) and tree \(t + 1) at \(starts[t + 1]); starts must increase from 0 to the node count \(nodeCount)")
        }
        var nodes: [ForestNode] = []
        nodes.reserveCapacity(nodeCount)
        var depths: [Int32] = []
        var depthOf = [Int32](repeating: 0, count: nodeCount)
        for t in 0..<(starts.count - 1) {
            let lo = Int(starts[t]), hi = Int(starts[t + 1])
            var deepest: Int32 = 0
            for i in lo..<hi {
                let child = Int(children[i])
                if child == i {
                    guard thresholds[i] == .infinity else { throw fail(.nodeThresholds, "leaf \(i) must have threshold +inf") }
                    nodes.append(ForestNode(feature: 0, threshold: .infinity, child: Int32(i)))
                } else {
                    // Children come after their parent (preorder), in pairs, inside the same tree.
                    guard child > i, child + 1 < hi else { throw fail(.nodeChildren, "node \(i) of tree \(t) points outside its tree") }
                    guard features[i] >= 0 && Int(features[i]) < featureCount else { throw fail(.nodeFeatures, "node \(i) uses feature \(features[i]) of \(featureCount)") }
                    nodes.append(ForestNode(feature: features[i], threshold: thresholds[i], child: children[i]))
                    depthOf[child] = depthOf[i] + 1
                    depthOf[child + 1] = depthOf[i] + 1
                }
                deepest = max(deepest, depthOf[i])
            }
            depths.append(deepest)
        }
        self.init(classes: classes, featureCount: featureCount, configuration: configuration, featureImportances: importances,
                  outOfBagAccuracy: oob, outOfBagCalibration: calibration, nodes: nodes, values: values, treeStarts: starts, treeDepths: depths)
    }
}

/// Standard base64 (RFC 4648, with padding) of little-endian 32-bit words; Foundation-free.
enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 255, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    static func encode(words: [UInt32]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(words.count * 4)
        for w in words {
            bytes.append(UInt8(w & 0xFF)); bytes.append(UInt8(w >> 8 & 0xFF))
            bytes.append(UInt8(w >> 16 & 0xFF)); bytes.append(UInt8(w >> 24))
        }
        return encode(bytes: bytes)
    }

    static func encode(bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(alphabet[Int(v >> 18)]); out.append(alphabet[Int(v >> 12 & 63)])
            out.append(alphabet[Int(v >> 6 & 63)]); out.append(alphabet[Int(v & 63)])
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let v = UInt32(bytes[i]) << 16
            out.append(alphabet[Int(v >> 18)]); out.append(alphabet[Int(v >> 12 & 63)])
            out.append(61); out.append(61)
        } else if rest == 2 {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out.append(alphabet[Int(v >> 18)]); out.append(alphabet[Int(v >> 12 & 63)])
            out.append(alphabet[Int(v >> 6 & 63)]); out.append(61)
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 4 * 3)
        var i = 0
        while i < chars.count {
            var v: UInt32 = 0
            var pad = 0
            for j in 0..<4 {
                let c = chars[i + j]
                if c == 61 { // "="
                    guard i + 4 == chars.count, j >= 2 else { return nil }
                    pad += 1
                    v <<= 6
                } else {
                    guard pad == 0 else { return nil }
                    let d = reverse[Int(c)]
                    guard d != 255 else { return nil }
                    v = v << 6 | UInt32(d)
                }
            }
            out.append(UInt8(v >> 16 & 0xFF))
            if pad < 2 { out.append(UInt8(v >> 8 & 0xFF)) }
            if pad < 1 { out.append(UInt8(v & 0xFF)) }
            i += 4
        }
        return out
    }

    static func decodeWords(_ text: String) -> [UInt32]? {
        guard let bytes = decode(text), bytes.count % 4 == 0 else { return nil }
        var words = [UInt32](repeating: 0, count: bytes.count / 4)
        for k in 0..<words.count {
            words[k] = UInt32(bytes[4 * k]) | UInt32(bytes[4 * k + 1]) << 8 | UInt32(bytes[4 * k + 2]) << 16 | UInt32(bytes[4 * k + 3]) << 24
        }
        return words
    }
}
