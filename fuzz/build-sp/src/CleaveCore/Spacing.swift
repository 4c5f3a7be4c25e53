/// Physical size of one pixel (voxel) along each axis, with its unit.
///
/// Cleave carries spacing from file to output; an image whose file says nothing about it has
/// `spacing == nil` (uncalibrated) rather than a made-up value.
public struct Spacing: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Size along x (columns), y (rows) and z (planes), in `unit`.
    public var x: Double
    public var y: Double
    public var z: Double
    /// Unit of length: "nm", "µm", "mm", "m", "Å" (or anything else a file said; see ``micrometresPerUnit``).
    public var unit: String

    public init(x: Double, y: Double, z: Double = 1, unit: String = "µm") {
        precondition(x > 0 && y > 0 && z > 0 && x.isFinite && y.isFinite && z.isFinite,
                     "Spacing(x:y:z:unit:) needs finite positive sizes, got \(x), \(y), \(z)")
        self.x = x
        self.y = y
        self.z = z
        self.unit = Spacing.normalizedUnit(unit)
    }

    /// Isotropic spacing.
    public init(_ size: Double, unit: String = "µm") {
        self.init(x: size, y: size, z: size, unit: unit)
    }

    /// Micrometres in one `unit`, or nil for an unknown unit.
    public var micrometresPerUnit: Double? {
        switch unit {
        case "m": return 1e6
        case "mm": return 1e3
        case "µm": return 1
        case "nm": return 1e-3
        case "Å": return 1e-4
        case "pm": return 1e-6
        case "cm": return 1e4
        case "inch": return 25_400
        default: return nil
        }
    }

    /// The same spacing expressed in another known unit (nil if either unit is unknown).
    public func converted(toUnit target: String) -> Spacing? {
        let targetUnit = Spacing.normalizedUnit(target)
        guard let from = micrometresPerUnit,
              let to = Spacing(1, unit: targetUnit).micrometresPerUnit else { return nil }
        let factor = from / to
        return Spacing(x: x * factor, y: y * factor, z: z * factor, unit: targetUnit)
    }

    /// Maps the many spellings files use to one ("micron", "um", "\\u00B5m" → "µm"; "A" → "Å").
    public static func normalizedUnit(_ unit: String) -> String {
        let trimmed = unit.strippingCharacters(" \t\0")
        switch trimmed.lowercased() {
        case "um", "µm", "μm", "micron", "microns", "micrometer", "micrometre", "micrometers", "micrometres", "\\u00b5m":
            return "µm"
        case "nm", "nanometer", "nanometre", "nanometers", "nanometres": return "nm"
        case "mm", "millimeter", "millimetre", "millimeters", "millimetres": return "mm"
        case "cm", "centimeter", "centimetre": return "cm"
        case "m", "meter", "metre", "meters", "metres": return "m"
        case "a", "å", "angstrom", "ångström": return "Å"
        case "pm", "picometer", "picometre": return "pm"
        case "inch", "in", "inches": return "inch"
        default: return trimmed
        }
    }

    public var description: String {
        if z == 1 || x == z && y == z {
            return x == y ? "\(x) \(unit)" : "\(x)×\(y) \(unit)"
        }
        return "\(x)×\(y)×\(z) \(unit)"
    }
}

extension String {
    /// Removes leading and trailing characters in `set` (a tiny Foundation-free helper).
    func strippingCharacters(_ set: String) -> String {
        let chars = Set(set)
        var start = startIndex
        var end = endIndex
        while start < end, chars.contains(self[start]) { start = index(after: start) }
        while end > start, chars.contains(self[index(before: end)]) { end = index(before: end) }
        return String(self[start..<end])
    }
}
