/// Reads the TIFF header and walks the chain of image file directories.
///
/// ```
/// classic: "II" 42  [u32 first IFD]      IFD: u16 count, count × 12-byte entries, u32 next
/// BigTIFF: "II" 43 8 0 [u64 first IFD]   IFD: u64 count, count × 20-byte entries, u64 next
/// ```
/// Every offset and count is checked against the file size before anything is read; a chain
/// that loops or points outside the file ends with ``TIFFError/invalidDirectory(path:offset:reason:)``.
struct TIFFDirectoryParser {
    let source: ByteSource
    private(set) var littleEndian = true
    private(set) var isBigTIFF = false
    private(set) var firstOffset = 0

    /// Upper bound on pages, so a hostile chain of tiny directories cannot run for ever.
    static let maximumPages = 1_000_000

    init(source: ByteSource) throws {
        self.source = source
        let head = try source.prefix(count: 16)
        guard head.count >= 8, ImageFormat.detect(head) == .tiff else {
            throw TIFFError.badMagic(path: source.path, found: hexPrefix(head, count: 4))
        }
        littleEndian = head[0] == 0x49
        let reader = EndianBytes(bytes: head, littleEndian: littleEndian)
        if reader.u16(2) == 43 {
            guard head.count >= 16 else {
                throw TIFFError.truncated(path: source.path, offset: 0, expected: 16, actual: head.count)
            }
            guard reader.u16(4) == 8, reader.u16(6) == 0 else {
                throw TIFFError.badMagic(path: source.path, found: "BigTIFF header with offset size \(reader.u16(4))")
            }
            isBigTIFF = true
            guard let first = reader.u64AsInt(8) else {
                throw TIFFError.invalidDirectory(path: source.path, offset: 8, reason: "first directory offset too large")
            }
            firstOffset = first
        } else {
            firstOffset = reader.u32(4)
        }
    }

    /// All directories in chain order (SubIFDs are not followed).
    func directories() throws -> [TIFFDirectory] {
        var result: [TIFFDirectory] = []
        var visited = Set<Int>()
        var offset = firstOffset
        if offset == 0 {
            throw TIFFError.invalidDirectory(path: source.path, offset: isBigTIFF ? 8 : 4, reason: "the file has no image directory")
        }
        while offset != 0 {
            guard visited.insert(offset).inserted else {
                throw TIFFError.invalidDirectory(path: source.path, offset: offset, reason: "the directory chain loops back to an earlier directory")
            }
            guard result.count < TIFFDirectoryParser.maximumPages else {
                throw TIFFError.invalidDirectory(path: source.path, offset: offset, reason: "more than \(TIFFDirectoryParser.maximumPages) pages")
            }
            let (directory, next) = try readDirectory(at: offset, index: result.count)
            result.append(directory)
            offset = next
        }
        return result
    }

    /// Parses one directory; returns it and the offset of the next (0 at the end).
    func readDirectory(at offset: Int, index: Int) throws -> (TIFFDirectory, Int) {
        let countSize = isBigTIFF ? 8 : 2
        let entrySize = isBigTIFF ? 20 : 12
        let offsetSize = isBigTIFF ? 8 : 4
        guard offset >= 8, source.contains(offset: offset, count: countSize) else {
            throw TIFFError.invalidDirectory(path: source.path, offset: offset, reason: "offset outside the file (\(source.size) bytes)")
        }
        let countBytes = EndianBytes(bytes: try source.bytes(offset: offset, count: countSize), littleEndian: littleEndian)
        let count: Int
        if isBigTIFF {
            guard let c = countBytes.u64AsInt(0), c <= source.size / entrySize else {
                throw TIFFError.invalidDirectory(path: source.path, offset: offset, reason: "entry count \(countBytes.u64(0)) cannot fit in the file")
            }
            count = c
        } else {
            count = countBytes.u16(0)
        }
        let blockSize = count * entrySize + offsetSize
        guard source.contains(offset: offset + countSize, count: blockSize) else {
            throw TIFFError.truncated(path: source.path, offset: offset + countSize, expected: blockSize,
                                      actual: max(0, source.size - offset - countSize))
        }
        let block = EndianBytes(bytes: try source.bytes(offset: offset + countSize, count: blockSize), littleEndian: littleEndian)
        var entries: [Int: TIFFEntry] = [:]
        entries.reserveCapacity(count)
        for i in 0..<count {
            let base = i * entrySize
            let tag = block.u16(base)
            let type = block.u16(base + 2)
            let valueCount: Int
            let valueFieldOffset = offset + countSize + base + (isBigTIFF ? 12 : 8)
            if isBigTIFF {
                guard let c = block.u64AsInt(base + 4) else { continue }
                valueCount = c
            } else {
                valueCount = block.u32(base + 4)
            }
            // Unknown field types are skipped, as the specification asks.
            guard let typeSize = TIFFFieldType.size(type) else { continue }
            let (byteCount, overflow) = valueCount.multipliedReportingOverflow(by: typeSize)
            if overflow { continue }
            if byteCount <= offsetSize {
                let start = base + (isBigTIFF ? 12 : 8)
                let inline = Array(block.bytes[start..<start + byteCount])
                entries[tag] = TIFFEntry(tag: tag, type: type, count: valueCount, valueOffset: valueFieldOffset, inlineBytes: inline)
            } else {
                let valueOffset: Int
                if isBigTIFF {
                    guard let v = block.u64AsInt(base + 12) else { continue }
                    valueOffset = v
                } else {
                    valueOffset = block.u32(base + 8)
                }
                // Out-of-file values are kept; reading them reports the tag.
                entries[tag] = TIFFEntry(tag: tag, type: type, count: valueCount, valueOffset: valueOffset, inlineBytes: nil)
            }
        }
        let nextPosition = count * entrySize
        let next: Int
        if isBigTIFF {
            next = block.u64AsInt(nextPosition) ?? -1
        } else {
            next = block.u32(nextPosition)
        }
        guard next == 0 || source.contains(offset: next, count: countSize) else {
            throw TIFFError.invalidDirectory(path: source.path, offset: offset, reason: "next directory offset \(next) lies outside the file (\(source.size) bytes)")
        }
        return (TIFFDirectory(offset: offset, index: index, entries: entries), next)
    }
}
