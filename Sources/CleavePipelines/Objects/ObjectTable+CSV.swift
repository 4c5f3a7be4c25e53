import CleaveFormats
import CleaveObjects

extension ObjectTable {
    /// The table as CSV: `label`, every column in order, then `class` when classified.
    /// Whole numbers print without a decimal point; NaN prints as `nan` (pandas reads it).
    public func csv() -> String {
        var out = "label"
        for name in columnNames { out += "," + name }
        if classes != nil { out += ",class" }
        out += "\n"
        let columns = columnNames.map { (try? column($0)) ?? [] }
        for row in 0..<count {
            out += String(labels[row])
            for values in columns { out += "," + Self.format(values[row]) }
            if let classes { out += "," + CSVText.field(classes[row]) }
            out += "\n"
        }
        return out
    }

    static func format(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }

}

import Foundation
