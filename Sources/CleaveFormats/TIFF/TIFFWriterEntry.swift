/// One field of a directory being written, and the byte layout of a whole directory.
enum TIFFWriterEntry {
    case short(Int, [Int])
    case long(Int, [Int])
    case long8(Int, [Int])
    case rational(Int, Double)
    case ascii(Int, String)

    var tag: Int {
        switch self {
        case .short(let t, _), .long(let t, _), .long8(let t, _), .rational(let t, _), .ascii(let t, _): return t
        }
    }

    private var type: Int {
        switch self {
        case .short: return 3
        case .long: return 4
        case .long8: return 16
        case .rational: return 5
        case .ascii: return 2
        }
    }

    private var count: Int {
        switch self {
        case .short(_, let v), .long(_, let v), .long8(_, let v): return v.count
        case .rational: return 1
        case .ascii(_, let s): return s.utf8.count + 1
        }
    }

    /// The value bytes (little-endian).
    private var valueBytes: [UInt8] {
        var b = LittleEndianBuilder()
        switch self {
        case .short(_, let v): v.forEach { b.u16($0) }
        case .long(_, let v): v.forEach { b.u32($0) }
        case .long8(_, let v): v.forEach { b.u64($0) }
        case .rational(_, let value):
            let (n, d) = TIFFWriterEntry.rational(value)
            b.u32(n); b.u32(d)
        case .ascii(_, let s): b.bytes = Array(s.utf8) + [0]
        }
        return b.bytes
    }

    /// A fraction n/d close to `value` with both parts in UInt32.
    static func rational(_ value: Double) -> (Int, Int) {
        guard value.isFinite, value > 0 else { return (0, 1) }
        var denominator = 1_000_000.0
        while denominator > 1 && value * denominator > Double(UInt32.max) { denominator /= 10 }
        let numerator = min((value * denominator).rounded(), Double(UInt32.max))
        return (Int(numerator), Int(denominator))
    }

    /// Bytes of a directory with its out-of-line values (word aligned).
    static func directorySize(_ entries: [TIFFWriterEntry], big: Bool) -> Int {
        let inlineLimit = big ? 8 : 4
        var size = (big ? 8 : 2) + entries.count * (big ? 20 : 12) + (big ? 8 : 4)
        for e in entries {
            let n = e.valueBytes.count
            if n > inlineLimit { size += n + (n & 1) }
        }
        return size
    }

    /// Serialises a directory placed at `offset`, pointing to `next`.
    static func directory(_ entries: [TIFFWriterEntry], at offset: Int, next: Int, big: Bool) -> [UInt8] {
        let inlineLimit = big ? 8 : 4
        var table = LittleEndianBuilder()
        var values: [UInt8] = []
        let valuesStart = offset + (big ? 8 : 2) + entries.count * (big ? 20 : 12) + (big ? 8 : 4)
        if big { table.u64(entries.count) } else { table.u16(entries.count) }
        for e in entries {
            table.u16(e.tag)
            table.u16(e.type)
            if big { table.u64(e.count) } else { table.u32(e.count) }
            var bytes = e.valueBytes
            if bytes.count <= inlineLimit {
                bytes += [UInt8](repeating: 0, count: inlineLimit - bytes.count)
                table.bytes += bytes
            } else {
                let at = valuesStart + values.count
                if big { table.u64(at) } else { table.u32(at) }
                values += bytes
                if bytes.count & 1 == 1 { values.append(0) }
            }
        }
        if big { table.u64(next) } else { table.u32(next) }
        return table.bytes + values
    }
}
