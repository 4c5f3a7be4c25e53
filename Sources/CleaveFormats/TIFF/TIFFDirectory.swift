/// One field of an image file directory: where its values live in the file.
struct TIFFEntry: Sendable {
    let tag: Int
    let type: Int
    let count: Int
    /// Absolute file offset of the value bytes (inside the entry when they fit there).
    let valueOffset: Int
    /// The value bytes when they fit inside the entry (read together with the directory).
    let inlineBytes: [UInt8]?
}

/// One image file directory (IFD): the tags of one page.
struct TIFFDirectory: Sendable {
    /// File offset of the directory.
    let offset: Int
    /// Page index (position in the IFD chain).
    let index: Int
    let entries: [Int: TIFFEntry]

    func has(_ tag: Int) -> Bool { entries[tag] != nil }
}

/// Typed access to directory values, validated against the file.
struct TIFFValueReader {
    let source: ByteSource
    let littleEndian: Bool

    private func rawBytes(_ e: TIFFEntry, page: Int) throws -> [UInt8] {
        if let inline = e.inlineBytes { return inline }
        guard let size = TIFFFieldType.size(e.type) else {
            throw TIFFError.invalidTag(path: source.path, page: page, tag: e.tag, reason: "unknown field type \(e.type)")
        }
        let (total, overflow) = e.count.multipliedReportingOverflow(by: size)
        guard !overflow, source.contains(offset: e.valueOffset, count: total) else {
            throw TIFFError.invalidTag(path: source.path, page: page, tag: e.tag,
                                       reason: "\(e.count) values at offset \(e.valueOffset) run past the end of the file (\(source.size) bytes)")
        }
        return try source.bytes(offset: e.valueOffset, count: total)
    }

    /// All values of an integer-typed field.
    func integers(_ e: TIFFEntry, page: Int) throws -> [Int] {
        let raw = EndianBytes(bytes: try rawBytes(e, page: page), littleEndian: littleEndian)
        var out = [Int]()
        out.reserveCapacity(e.count)
        switch e.type {
        case 1, 7: for i in 0..<e.count { out.append(raw.u8(i)) }
        case 6: for i in 0..<e.count { out.append(Int(Int8(truncatingIfNeeded: raw.u8(i)))) }
        case 3: for i in 0..<e.count { out.append(raw.u16(2 * i)) }
        case 8: for i in 0..<e.count { out.append(Int(Int16(truncatingIfNeeded: raw.u16(2 * i)))) }
        case 4, 13: for i in 0..<e.count { out.append(raw.u32(4 * i)) }
        case 9: for i in 0..<e.count { out.append(Int(Int32(truncatingIfNeeded: raw.u32(4 * i)))) }
        case 16, 18:
            for i in 0..<e.count {
                guard let v = raw.u64AsInt(8 * i) else {
                    throw TIFFError.invalidTag(path: source.path, page: page, tag: e.tag, reason: "value \(raw.u64(8 * i)) too large")
                }
                out.append(v)
            }
        case 17: for i in 0..<e.count { out.append(Int(Int64(bitPattern: raw.u64(8 * i)))) }
        default:
            throw TIFFError.invalidTag(path: source.path, page: page, tag: e.tag, reason: "expected an integer type, found field type \(e.type)")
        }
        return out
    }

    /// All values of a numeric field as Doubles (rationals divided out; n/0 gives 0).
    func doubles(_ e: TIFFEntry, page: Int) throws -> [Double] {
        switch e.type {
        case 5, 10, 11, 12:
            let raw = EndianBytes(bytes: try rawBytes(e, page: page), littleEndian: littleEndian)
            var out = [Double]()
            for i in 0..<e.count {
                switch e.type {
                case 5:
                    let n = Double(raw.u32(8 * i)), d = Double(raw.u32(8 * i + 4))
                    out.append(d == 0 ? 0 : n / d)
                case 10:
                    let n = Double(Int32(truncatingIfNeeded: raw.u32(8 * i))), d = Double(Int32(truncatingIfNeeded: raw.u32(8 * i + 4)))
                    out.append(d == 0 ? 0 : n / d)
                case 11: out.append(Double(raw.f32(4 * i)))
                default: out.append(raw.f64(8 * i))
                }
            }
            return out
        default:
            return try integers(e, page: page).map(Double.init)
        }
    }

    /// A text field (ASCII or bytes), decoded as UTF-8 (invalid bytes replaced), trailing NULs removed.
    func string(_ e: TIFFEntry, page: Int) throws -> String {
        var bytes = try rawBytes(e, page: page)
        if e.type != 2 && e.type != 1 && e.type != 7 {
            throw TIFFError.invalidTag(path: source.path, page: page, tag: e.tag, reason: "expected text, found field type \(e.type)")
        }
        while let last = bytes.last, last == 0 { bytes.removeLast() }
        // Some writers join several strings with NULs; show them as newlines.
        for i in bytes.indices where bytes[i] == 0 { bytes[i] = 10 }
        return decodeText(bytes)
    }

    /// The single integer of a field, or `fallback` when the tag is absent.
    func integer(_ dir: TIFFDirectory, _ tag: Int, default fallback: Int? = nil) throws -> Int? {
        guard let e = dir.entries[tag] else { return fallback }
        let values = try integers(e, page: dir.index)
        guard let first = values.first else {
            throw TIFFError.invalidTag(path: source.path, page: dir.index, tag: tag, reason: "has no value")
        }
        return first
    }
}

/// Decodes text as UTF-8, or as Latin-1 when it is not valid UTF-8 (old vendor tags write "µ" as 0xB5).
func decodeText(_ bytes: [UInt8]) -> String {
    if let text = String(validatingUTF8: bytes.map { CChar(bitPattern: $0) } + [0]) { return text }
    var scalars = String.UnicodeScalarView()
    for b in bytes { scalars.append(Unicode.Scalar(b)) }
    return String(scalars)
}
