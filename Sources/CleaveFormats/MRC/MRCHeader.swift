import CleaveCore

/// The 1024-byte MRC2014 header (fields Cleave uses).
///
/// ```
/// 0 nx  4 ny  8 nz  12 mode  28 mx 32 my 36 mz  40 cella (Å, 3 floats)  64 mapc mapr maps
/// 76 dmin dmax dmean  92 nsymbt (extended header bytes)  104 exttyp  108 nversion
/// 152 IMOD stamp  156 IMOD flags  208 "MAP "  212 machine stamp (0x44 little, 0x11 big)
/// ```
struct MRCHeader {
    var width: Int
    var height: Int
    var depth: Int
    var mode: Int
    var sampling: (Int, Int, Int)
    var cell: (Float, Float, Float)
    var axisOrder: (Int, Int, Int)
    var extendedHeaderBytes: Int
    var littleEndian: Bool
    var imodUnsignedBytes: Bool
    var extendedType: String
    var version: Int
    var labels: [String]

    static let size = 1024
    static let modes: Set<Int> = [0, 1, 2, 6, 12]

    /// True when `head` (≥ 224 bytes) looks like an MRC header.
    static func looksLikeMRC(_ head: [UInt8]) -> Bool {
        guard head.count >= 224 else { return false }
        if head[208..<212].elementsEqual(Array("MAP ".utf8)) { return true }
        for little in [true, false] {
            let r = EndianBytes(bytes: head, littleEndian: little)
            let nx = Int32(truncatingIfNeeded: r.u32(0)), ny = Int32(truncatingIfNeeded: r.u32(4)), nz = Int32(truncatingIfNeeded: r.u32(8))
            let mode = r.u32(12)
            let axes = [r.u32(64), r.u32(68), r.u32(72)]
            if nx > 0, ny > 0, nz > 0, nx < 1 << 20, ny < 1 << 20, nz < 1 << 20, [0, 1, 2, 6].contains(mode),
               axes.sorted() == [1, 2, 3] { return true }
        }
        return false
    }

    /// Parses and validates a header against the file size.
    init(_ head: [UInt8], path: String, fileSize: Int) throws {
        guard head.count >= MRCHeader.size else {
            throw MRCError.truncated(path: path, offset: 0, expected: MRCHeader.size, actual: head.count)
        }
        if head[212] == 0x11 { littleEndian = false }
        else if head[212] == 0x44 { littleEndian = true }
        else {
            // No machine stamp: pick the byte order that gives a known mode.
            let little = EndianBytes(bytes: head, littleEndian: true).u32(12)
            littleEndian = MRCHeader.modes.contains(little)
        }
        let r = EndianBytes(bytes: head, littleEndian: littleEndian)
        func i32(_ o: Int) -> Int { Int(Int32(truncatingIfNeeded: r.u32(o))) }
        width = i32(0); height = i32(4); depth = i32(8); mode = i32(12)
        for (name, value) in [("nx", width), ("ny", height), ("nz", depth)] where value < 1 || value > 1 << 30 {
            throw MRCError.badHeader(path: path, field: name, reason: "\(value) outside 1…2^30")
        }
        guard MRCHeader.modes.contains(mode) else { throw MRCError.unsupportedMode(path: path, mode: mode) }
        sampling = (i32(28), i32(32), i32(36))
        cell = (r.f32(40), r.f32(44), r.f32(48))
        axisOrder = (i32(64), i32(68), i32(72))
        extendedHeaderBytes = i32(92)
        guard extendedHeaderBytes >= 0, extendedHeaderBytes <= fileSize else {
            throw MRCError.badHeader(path: path, field: "nsymbt", reason: "extended header of \(extendedHeaderBytes) bytes in a \(fileSize)-byte file")
        }
        extendedType = String(decoding: head[104..<108].filter { $0 >= 32 && $0 < 127 }, as: UTF8.self)
        version = i32(108)
        imodUnsignedBytes = i32(152) == 1_146_047_817 && (i32(156) & 1) == 0
        let labelCount = min(10, max(0, i32(220)))
        labels = (0..<labelCount).map { i in
            decodeText(Array(head[(224 + 80 * i)..<(224 + 80 * (i + 1))]).filter { $0 != 0 })
                .trimmingCharacters()
        }
        // The sections the header claims must be in the file, so that nothing (info included,
        // which callers size their buffers from) trusts a size the file cannot back.
        let dataStart = MRCHeader.size + extendedHeaderBytes
        let (plane, o1) = width.multipliedReportingOverflow(by: height)
        let (planeBytes, o2) = plane.multipliedReportingOverflow(by: sampleBytes)
        let (total, o3) = planeBytes.multipliedReportingOverflow(by: depth)
        guard !o1, !o2, !o3, total <= fileSize - dataStart else {
            throw MRCError.truncated(path: path, offset: dataStart, expected: o1 || o2 || o3 ? Int.max : total,
                                     actual: max(0, fileSize - dataStart))
        }
    }

    /// Bytes per stored sample.
    var sampleBytes: Int {
        switch mode {
        case 0: return 1
        case 1, 6, 12: return 2
        default: return 4
        }
    }

    /// Pixel type of the decoded image.
    var pixelType: PixelType {
        switch mode {
        case 0: return imodUnsignedBytes ? .uint8 : .float32
        case 6: return .uint16
        default: return .float32
        }
    }

    var storedSampleType: String {
        switch mode {
        case 0: return imodUnsignedBytes ? "uint8" : "int8"
        case 1: return "int16"
        case 2: return "float32"
        case 6: return "uint16"
        default: return "float16"
        }
    }

    /// Voxel size in Å from cell / sampling, when both are positive.
    var spacing: Spacing? {
        let (mx, my, mz) = sampling
        guard mx > 0, my > 0, cell.0 > 0, cell.1 > 0 else { return nil }
        let z = mz > 0 && cell.2 > 0 ? Double(cell.2) / Double(mz) : Double(cell.0) / Double(mx)
        return Spacing.checked(x: Double(cell.0) / Double(mx), y: Double(cell.1) / Double(my), z: z, unit: "Å")
    }
}

extension String {
    /// Without leading/trailing spaces.
    func trimmingCharacters() -> String { Substring(self).trimmingSpaces() }
}
