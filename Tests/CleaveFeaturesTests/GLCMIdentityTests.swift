import Testing
import CleaveCore
import CleaveFilters
import CleaveFeatures

/// Issue 24 ("one GLCM"): the per-patch GLCM (Locator patch statistics) and the sliding GLCM
/// (pixel-classifier texture features) were merged into one quantiser, one pair-walking kernel and
/// one set of property formulas. These tests pin both front ends to the exact bits the two
/// separate implementations produced before the merge (recorded with the code at commit c8a0fbf):
/// each case hashes the IEEE bit patterns of every output value (FNV-1a, 64 bit), so a change of
/// one ulp anywhere fails. The inputs cover 8/16-bit and float data, values that land exactly on
/// level boundaries, NaN/±infinity, constant images, patches smaller than the distance, every
/// boundary rule and 2…64 grey levels.
@Suite struct GLCMIdentityTests {
    /// FNV-1a over the bit patterns.
    static func hash<S: Sequence>(_ values: S) -> UInt64 where S.Element: BinaryFloatingPoint {
        var h: UInt64 = 0xcbf29ce484222325
        for v in values {
            var bits: UInt64
            if let d = v as? Double { bits = d.bitPattern } else { bits = UInt64((v as! Float).bitPattern) }
            for _ in 0..<8 { h = (h ^ (bits & 0xff)) &* 0x100000001b3; bits >>= 8 }
        }
        return h
    }

    /// Deterministic test images (no randomness source other than a fixed LCG).
    static func image(_ kind: String, width: Int, height: Int) -> Image<Float> {
        var state: UInt64 = 0x9e3779b97f4a7c15
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        var pixels = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let smooth = Double(x * 3 + y * 2) + 20 * Double((x / 7 + y / 5) % 3)
                let i = y * width + x
                switch kind {
                case "u8": pixels[i] = Float(min(255, (Int(smooth) + Int(next() % 90)) % 256))
                case "u16": pixels[i] = Float((Int(smooth) * 211 + Int(next() % 9000)) % 65536)
                case "steps": pixels[i] = Float(Int(next() % 97))  // 0…96: exact level boundaries for 3, 32 … levels
                case "float": pixels[i] = Float(smooth / 37.0) * 0.1 + Float(next() % 1000) * 1e-3
                case "tenths": pixels[i] = Float(Int(next() % 11)) * 0.1  // 0, 0.1 … 1.0 (inexact in binary)
                case "constant": pixels[i] = 1234
                case "nonfinite":
                    let r = next() % 53
                    pixels[i] = r == 0 ? .nan : r == 1 ? .infinity : r == 2 ? -.infinity : Float(Int(smooth) % 200)
                default: fatalError(kind)
                }
            }
        }
        return Image(shape: Shape(width: width, height: height), pixels: pixels)
    }

    static let kinds = ["u8", "u16", "steps", "float", "tenths", "constant", "nonfinite"]

    /// Per-patch GLCM through the Locator's entry point (patch statistics of many regions).
    static func patchCase(_ kind: String, distance: Int, levels: Int) -> UInt64 {
        let image = image(kind, width: 61, height: 47)
        var regions = [Region(x: 0, y: 0, width: 61, height: 47), Region(x: 0, y: 0, width: 1, height: 1),
                       Region(x: 3, y: 4, width: 1, height: 9), Region(x: 5, y: 6, width: 9, height: 1),
                       Region(x: 10, y: 10, width: 2, height: 2), Region(x: 50, y: 40, width: 3, height: 2)]
        for y in stride(from: 0, to: 40, by: 13) { for x in stride(from: 0, to: 50, by: 11) {
            regions.append(Region(x: x, y: y, width: 11, height: 7)) } }
        let options = PatchStatisticsOptions(glcmDistance: distance, glcmLevels: levels)
        return hash(PatchStatistics.compute(image, regions: regions, statistics: PatchStatistic.texture, options: options))
    }

    /// Sliding GLCM of every pixel.
    static func slidingCase(_ kind: String, window: Int, levels: Int, low: Double, high: Double, boundary: Boundary) -> UInt64 {
        let image = image(kind, width: 37, height: 29)
        let out = glcmTexture(image, window: window, options: TextureOptions(levels: levels, low: low, high: high), boundary: boundary)
        return hash(out.flatMap(\.pixels))
    }

    static let patchConfigurations: [(distance: Int, levels: Int)] = [(1, 32), (1, 2), (1, 3), (2, 17), (3, 64), (1, 256)]
    static let slidingConfigurations: [(window: Int, levels: Int, low: Double, high: Double, boundary: Boundary)] = [
        (7, 16, 0, 255, .reflect), (3, 2, 0, 255, .mirror), (5, 17, 0, 255, .nearest), (9, 64, 0, 96, .constant(7)),
        (5, 3, 0, 96, .reflect), (7, 32, 0, 65535, .reflect), (3, 16, -0.5, 1000, .constant(-1)), (5, 10, 0, 1, .reflect),
    ]

    /// Prints the hashes (run with `CLEAVE_GLCM_RECORD=1` on the old code to record them).
    static func allHashes() -> [String: UInt64] {
        var result: [String: UInt64] = [:]
        for kind in kinds {
            for c in patchConfigurations { result["patch \(kind) d\(c.distance) L\(c.levels)"] = patchCase(kind, distance: c.distance, levels: c.levels) }
            for c in slidingConfigurations {
                result["sliding \(kind) w\(c.window) L\(c.levels) \(c.low)…\(c.high) \(c.boundary)"] =
                    slidingCase(kind, window: c.window, levels: c.levels, low: c.low, high: c.high, boundary: c.boundary)
            }
        }
        // A multi-plane image goes plane by plane.
        let planes = Image(shape: Shape(width: 19, height: 13, depth: 3),
                           pixels: (0..<(19 * 13 * 3)).map { Float(($0 * 7919) % 251) })
        result["sliding planes w5 L16"] = hash(glcmTexture(planes, window: 5).flatMap(\.pixels))
        result["patch public d2 L4"] = hash({ () -> [Double] in
            let p = GLCM.properties(values: [0, 0, 1, 1, 0, 0, 1, 1, 0, 2, 2, 2, 2, 2, 3, 3], width: 4, height: 4, distance: 2, levels: 4)
            return [p.contrast, p.homogeneity, p.energy, p.correlation, p.entropy]
        }())
        return result
    }

    @Test func outputsAreBitIdenticalToTheSeparateImplementations() {
        let hashes = Self.allHashes()
        if Environment.get("CLEAVE_GLCM_RECORD") != nil {
            for key in hashes.keys.sorted() { print("        \"\(key)\": 0x\(String(hashes[key]!, radix: 16)),") }
        }
        #expect(hashes.count == Self.recorded.count)
        for (key, value) in hashes.sorted(by: { $0.key < $1.key }) {
            #expect(Self.recorded[key] == value, "\(key): 0x\(String(value, radix: 16)) differs from the pre-merge output")
        }
    }

    static let recorded: [String: UInt64] = [
        "patch constant d1 L2": 0xcfa9741a87a70ad1,
        "patch constant d1 L256": 0xcfa9741a87a70ad1,
        "patch constant d1 L3": 0xcfa9741a87a70ad1,
        "patch constant d1 L32": 0xcfa9741a87a70ad1,
        "patch constant d2 L17": 0x7c65d06044e94555,
        "patch constant d3 L64": 0xc8974c401fe321e5,
        "patch float d1 L2": 0xe71e9233d5ee7003,
        "patch float d1 L256": 0x13be9cbf7624df55,
        "patch float d1 L3": 0xa22698d8f161a0fc,
        "patch float d1 L32": 0xbc36394e6cf4b02,
        "patch float d2 L17": 0x431ace3c1447a5cb,
        "patch float d3 L64": 0xcb2ba07058fd898e,
        "patch nonfinite d1 L2": 0xe5063ddf11f99803,
        "patch nonfinite d1 L256": 0x82b5c4d8656a8ee6,
        "patch nonfinite d1 L3": 0x536f0efbe7ac10d0,
        "patch nonfinite d1 L32": 0x98c68cddaaa9f289,
        "patch nonfinite d2 L17": 0x19611271d6ffd46,
        "patch nonfinite d3 L64": 0x640695ed56782b35,
        "patch public d2 L4": 0xfb9c870937d53884,
        "patch steps d1 L2": 0x1e7615301058f863,
        "patch steps d1 L256": 0xd8f0a6e8eede2c75,
        "patch steps d1 L3": 0xfc5750a955c544e0,
        "patch steps d1 L32": 0x575ba2e2c963bac9,
        "patch steps d2 L17": 0xb182c5e36325dcb6,
        "patch steps d3 L64": 0x971d3d1a14b9260e,
        "patch tenths d1 L2": 0xec167c6562691823,
        "patch tenths d1 L256": 0x98ad2f5655c522cb,
        "patch tenths d1 L3": 0xb2ceb8127c7d2527,
        "patch tenths d1 L32": 0xacb1de16f5b76a50,
        "patch tenths d2 L17": 0x66b3cac0ecbfc349,
        "patch tenths d3 L64": 0x44c1a1be99869381,
        "patch u16 d1 L2": 0xb5043d2c95952db2,
        "patch u16 d1 L256": 0xdb1756cd85971f1a,
        "patch u16 d1 L3": 0x6b2dd924d8a7da19,
        "patch u16 d1 L32": 0x597ea4724b7f0e0d,
        "patch u16 d2 L17": 0x23f06bf933df7c50,
        "patch u16 d3 L64": 0x1dee8de2aff31a88,
        "patch u8 d1 L2": 0x6ff18f4bf14b744d,
        "patch u8 d1 L256": 0x18624f1217d80025,
        "patch u8 d1 L3": 0xdb11f1b35e86866a,
        "patch u8 d1 L32": 0xee9f9da2d61a420f,
        "patch u8 d2 L17": 0x99a97670211d900a,
        "patch u8 d3 L64": 0x57ad8242e2bb543d,
        "sliding constant w3 L16 -0.5…1000.0 constant(-1.0)": 0x8103eb1b90dfbbdc,
        "sliding constant w3 L2 0.0…255.0 mirror": 0x40f37cdadaf56c6c,
        "sliding constant w5 L10 0.0…1.0 reflect": 0xc2e64ea6cbe7b458,
        "sliding constant w5 L17 0.0…255.0 nearest": 0xc2e64ea6cbe7b458,
        "sliding constant w5 L3 0.0…96.0 reflect": 0xc2e64ea6cbe7b458,
        "sliding constant w7 L16 0.0…255.0 reflect": 0xc2e64ea6cbe7b458,
        "sliding constant w7 L32 0.0…65535.0 reflect": 0xc2e64ea6cbe7b458,
        "sliding constant w9 L64 0.0…96.0 constant(7.0)": 0xa6929a5f0c01bd18,
        "sliding float w3 L16 -0.5…1000.0 constant(-1.0)": 0x40f37cdadaf56c6c,
        "sliding float w3 L2 0.0…255.0 mirror": 0x40f37cdadaf56c6c,
        "sliding float w5 L10 0.0…1.0 reflect": 0xa2e4a4305531475f,
        "sliding float w5 L17 0.0…255.0 nearest": 0xc2e64ea6cbe7b458,
        "sliding float w5 L3 0.0…96.0 reflect": 0xc2e64ea6cbe7b458,
        "sliding float w7 L16 0.0…255.0 reflect": 0xc2e64ea6cbe7b458,
        "sliding float w7 L32 0.0…65535.0 reflect": 0xc2e64ea6cbe7b458,
        "sliding float w9 L64 0.0…96.0 constant(7.0)": 0x60921ada4c3bdbd8,
        "sliding nonfinite w3 L16 -0.5…1000.0 constant(-1.0)": 0x76ce6b60aec86a8f,
        "sliding nonfinite w3 L2 0.0…255.0 mirror": 0x17d58cf7ae368dd7,
        "sliding nonfinite w5 L10 0.0…1.0 reflect": 0x45f4dbbcf2764d7a,
        "sliding nonfinite w5 L17 0.0…255.0 nearest": 0x65f9ff705d7bd62,
        "sliding nonfinite w5 L3 0.0…96.0 reflect": 0x414b04fac9ef31e1,
        "sliding nonfinite w7 L16 0.0…255.0 reflect": 0xda7e996be626937a,
        "sliding nonfinite w7 L32 0.0…65535.0 reflect": 0x8c13c34178ff0159,
        "sliding nonfinite w9 L64 0.0…96.0 constant(7.0)": 0xaf168dae19df40c,
        "sliding planes w5 L16": 0x8c500668a273260c,
        "sliding steps w3 L16 -0.5…1000.0 constant(-1.0)": 0xdc1f3e76f17e7c50,
        "sliding steps w3 L2 0.0…255.0 mirror": 0x40f37cdadaf56c6c,
        "sliding steps w5 L10 0.0…1.0 reflect": 0xa69fc48c7d94474c,
        "sliding steps w5 L17 0.0…255.0 nearest": 0xb57fa1cf3b80190c,
        "sliding steps w5 L3 0.0…96.0 reflect": 0x127bf96c18d95987,
        "sliding steps w7 L16 0.0…255.0 reflect": 0x43a9371cc359eba3,
        "sliding steps w7 L32 0.0…65535.0 reflect": 0xc2e64ea6cbe7b458,
        "sliding steps w9 L64 0.0…96.0 constant(7.0)": 0xc5e0d5caa592f332,
        "sliding tenths w3 L16 -0.5…1000.0 constant(-1.0)": 0x40f37cdadaf56c6c,
        "sliding tenths w3 L2 0.0…255.0 mirror": 0x40f37cdadaf56c6c,
        "sliding tenths w5 L10 0.0…1.0 reflect": 0x821529bde9decd26,
        "sliding tenths w5 L17 0.0…255.0 nearest": 0xc2e64ea6cbe7b458,
        "sliding tenths w5 L3 0.0…96.0 reflect": 0xc2e64ea6cbe7b458,
        "sliding tenths w7 L16 0.0…255.0 reflect": 0xc2e64ea6cbe7b458,
        "sliding tenths w7 L32 0.0…65535.0 reflect": 0xc2e64ea6cbe7b458,
        "sliding tenths w9 L64 0.0…96.0 constant(7.0)": 0x60921ada4c3bdbd8,
        "sliding u16 w3 L16 -0.5…1000.0 constant(-1.0)": 0x8103eb1b90dfbbdc,
        "sliding u16 w3 L2 0.0…255.0 mirror": 0x40f37cdadaf56c6c,
        "sliding u16 w5 L10 0.0…1.0 reflect": 0xc2e64ea6cbe7b458,
        "sliding u16 w5 L17 0.0…255.0 nearest": 0xc2e64ea6cbe7b458,
        "sliding u16 w5 L3 0.0…96.0 reflect": 0xc2e64ea6cbe7b458,
        "sliding u16 w7 L16 0.0…255.0 reflect": 0xc2e64ea6cbe7b458,
        "sliding u16 w7 L32 0.0…65535.0 reflect": 0x5fda485f65071c9c,
        "sliding u16 w9 L64 0.0…96.0 constant(7.0)": 0xa6929a5f0c01bd18,
        "sliding u8 w3 L16 -0.5…1000.0 constant(-1.0)": 0x9d8e6736d780f5f8,
        "sliding u8 w3 L2 0.0…255.0 mirror": 0x5bcbce394fbde797,
        "sliding u8 w5 L10 0.0…1.0 reflect": 0xa9e45ececb26de8c,
        "sliding u8 w5 L17 0.0…255.0 nearest": 0x737519129aae3a59,
        "sliding u8 w5 L3 0.0…96.0 reflect": 0x32f8136b6b0c74b4,
        "sliding u8 w7 L16 0.0…255.0 reflect": 0xe0a7e7027da6faf8,
        "sliding u8 w7 L32 0.0…65535.0 reflect": 0xc2e64ea6cbe7b458,
        "sliding u8 w9 L64 0.0…96.0 constant(7.0)": 0x30250d680aef33d2,
    ]
}

private enum Environment {
    static func get(_ name: String) -> String? {
        guard let p = getenv(name) else { return nil }
        return String(cString: p)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
