import CleaveCore
import Foundation

/// Point pairs (moving pixel ↔ fixed pixel, x = column, y = row) that fix a registration by hand.
///
/// File format: CSV, one pair per line `moving_x,moving_y,fixed_x,fixed_y`; an optional header
/// line (any line whose fields are not all numbers, first line only), blank lines and lines
/// starting with `#` are skipped. Fiji's point coordinates can be pasted as they are.
public struct RegistrationLandmarks: Sendable {
    /// The file the pairs came from (named in errors and in `transform.json`).
    public let path: String
    /// The point pairs in file order, pixel coordinates (x = column, y = row) in the moving and the fixed image.
    public let pairs: [(moving: (x: Double, y: Double), fixed: (x: Double, y: Double))]

    /// Reads a landmark file.
    /// - Throws: ``RegistrationError/badLandmarks(path:line:reason:)`` for unreadable files and
    ///   malformed lines.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RegistrationError.badLandmarks(path: path, line: 0, reason: "cannot read the file (missing or not readable)")
        }
        try self.init(text: String(decoding: data, as: UTF8.self), path: path)
    }

    /// Parses landmark text; `path` names it in errors.
    public init(text: String, path: String) throws {
        self.path = path
        var pairs: [(moving: (x: Double, y: Double), fixed: (x: Double, y: Double))] = []
        var seenContent = false
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(whereSeparator: { $0 == "," || $0 == ";" || $0 == "\t" })
                .map { $0.trimmingCharacters(in: .whitespaces) }
            let numbers = fields.map { Double($0) }
            if !seenContent && numbers.contains(where: { $0 == nil }) { seenContent = true; continue }  // header
            seenContent = true
            guard fields.count == 4 else {
                throw RegistrationError.badLandmarks(path: path, line: index + 1,
                                                     reason: "expected 4 numbers (moving_x, moving_y, fixed_x, fixed_y), got \(fields.count) fields")
            }
            let values = numbers.compactMap { $0 }
            guard values.count == 4, values.allSatisfy({ $0.isFinite }) else {
                throw RegistrationError.badLandmarks(path: path, line: index + 1, reason: "'\(line)' holds a value that is not a finite number")
            }
            pairs.append(((values[0], values[1]), (values[2], values[3])))
        }
        self.pairs = pairs
    }

    /// Least-squares fit of the model: rigid and similarity by Umeyama's method (with the better of
    /// plain and mirrored when `mirror` is auto), affine by linear least squares.
    /// - Throws: ``RegistrationError/tooFewLandmarks(path:count:needed:model:)`` below
    ///   `model.landmarksNeeded` pairs; ``RegistrationError/degenerateLandmarks(path:reason:)`` when
    ///   the points coincide or (affine) lie on one line.
    public func fit(model: RegistrationModel, mirror: MirrorSearch) throws -> AffineTransform {
        guard pairs.count >= model.landmarksNeeded else {
            throw RegistrationError.tooFewLandmarks(path: path, count: pairs.count, needed: model.landmarksNeeded, model: model.rawValue)
        }
        let n = Double(pairs.count)
        let mx = pairs.map(\.moving.x).reduce(0, +) / n, my = pairs.map(\.moving.y).reduce(0, +) / n
        let fx = pairs.map(\.fixed.x).reduce(0, +) / n, fy = pairs.map(\.fixed.y).reduce(0, +) / n
        let spread = pairs.map { ($0.moving.x - mx) * ($0.moving.x - mx) + ($0.moving.y - my) * ($0.moving.y - my) }.reduce(0, +)
        guard spread > 1e-9 else {
            throw RegistrationError.degenerateLandmarks(path: path, reason: "all moving points coincide")
        }
        switch model {
        case .rigid, .similarity:
            var options: [AffineTransform] = []
            for mirrored in mirror == .auto ? [false, true] : [mirror == .yes] {
                let s: Double = mirrored ? -1 : 1
                var dot = 0.0, cross = 0.0
                for p in pairs {
                    let u = s * (p.moving.x - mx), v = p.moving.y - my
                    let x = p.fixed.x - fx, y = p.fixed.y - fy
                    dot += u * x + v * y; cross += u * y - v * x
                }
                let angle = atan2(cross, dot)
                let scale = model == .similarity ? (dot * dot + cross * cross).squareRoot() / spread : 1
                var t = AffineTransform.similarity(angleRadians: angle, scale: scale, mirrored: mirrored, translation: (0, 0))
                let image = t.apply(mx, my)
                t.tx = fx - image.x; t.ty = fy - image.y
                options.append(t)
            }
            return options.min { residual(of: $0) < residual(of: $1) }!
        case .affine:
            // Normal equations of [u v 1] · [a b tx]ᵀ = x (and the same for y), centred.
            var suu = 0.0, suv = 0.0, svv = 0.0, sux = 0.0, svx = 0.0, suy = 0.0, svy = 0.0
            for p in pairs {
                let u = p.moving.x - mx, v = p.moving.y - my, x = p.fixed.x - fx, y = p.fixed.y - fy
                suu += u * u; suv += u * v; svv += v * v; sux += u * x; svx += v * x; suy += u * y; svy += v * y
            }
            let det = suu * svv - suv * suv
            guard det > 1e-9 * spread * spread else {
                throw RegistrationError.degenerateLandmarks(path: path, reason: "the moving points lie on one line; an affine transform needs them spread in 2D")
            }
            let a = (sux * svv - svx * suv) / det, b = (svx * suu - sux * suv) / det
            let c = (suy * svv - svy * suv) / det, d = (svy * suu - suy * suv) / det
            let t = AffineTransform(a: a, b: b, tx: fx - a * mx - b * my, c: c, d: d, ty: fy - c * mx - d * my)
            if mirror == .no && t.isMirrored || mirror == .yes && !t.isMirrored {
                throw RegistrationError.degenerateLandmarks(path: path, reason: "the best affine fit is \(t.isMirrored ? "" : "not ")mirrored, but `mirror` is \(mirror.rawValue)")
            }
            return t
        }
    }

    /// Root-mean-square distance in fixed pixels between `t(moving)` and the fixed points.
    public func residual(of t: AffineTransform) -> Double {
        guard !pairs.isEmpty else { return 0 }
        let sum = pairs.map { p -> Double in
            let q = t.apply(p.moving.x, p.moving.y)
            return (q.x - p.fixed.x) * (q.x - p.fixed.x) + (q.y - p.fixed.y) * (q.y - p.fixed.y)
        }.reduce(0, +)
        return (sum / Double(pairs.count)).squareRoot()
    }
}
