import Foundation
import CleaveCore

/// Writes a float32 multi-page TIFF whose pages are filled block by block, so an output larger than
/// memory (per-class probabilities of a big image) never has to exist in memory at once.
///
/// Layout (uncompressed, little-endian; BigTIFF when the data passes 4 GB):
///
/// ```
/// header | page 0 samples | page 1 samples | … | description | IFD 0 → IFD 1 → … → 0
/// ```
///
/// Each page is one strip; page p, row y, column x lives at `dataStart + ((p·height + y)·width + x)·4`.
/// The file is written under a temporary name and only renamed to its final path by ``finish()``.
final class FloatPageWriter {
    let path: String
    let width: Int, height: Int, pageCount: Int
    let description: String
    private let temporary: String
    private let descriptor: Int32
    private let big: Bool
    private let dataStart: Int
    private var finished = false

    /// Creates the temporary file with room for `pageCount` pages of `width × height` floats.
    /// - Throws: ``PipelineFileError`` when the file cannot be created.
    init(path: String, width: Int, height: Int, pageCount: Int, description: String) throws {
        self.path = path
        self.width = width; self.height = height; self.pageCount = pageCount
        self.description = description
        self.temporary = AtomicFile.temporaryPath(for: path)
        let dataBytes = width * height * pageCount * 4
        self.big = dataBytes + 4096 + pageCount * 256 >= Int(UInt32.max)
        self.dataStart = big ? 16 : 8
        descriptor = open(temporary, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else {
            throw PipelineFileError.cannotWrite(path: path, reason: "cannot create (\(String(cString: strerror(errno))))")
        }
    }

    deinit {
        if !finished {
            close(descriptor)
            unlink(temporary)
        }
    }

    /// Writes `count` floats to page `page`, row `row`, starting at `column`.
    func write(page: Int, row: Int, column: Int, values: UnsafeBufferPointer<Float>) throws {
        precondition(page < pageCount && row < height && column + values.count <= width,
                     "FloatPageWriter.write: page \(page) row \(row) column \(column) +\(values.count) outside \(width)×\(height)×\(pageCount)")
        let offset = dataStart + ((page * height + row) * width + column) * 4
        try writeAll(UnsafeRawBufferPointer(values), at: offset)
    }

    /// Reads back `values.count` floats written earlier at page `page`, row `row`, from `column`.
    func read(page: Int, row: Int, column: Int, into values: UnsafeMutableBufferPointer<Float>) throws {
        precondition(page < pageCount && row < height && column + values.count <= width,
                     "FloatPageWriter.read: page \(page) row \(row) column \(column) +\(values.count) outside \(width)×\(height)×\(pageCount)")
        let offset = dataStart + ((page * height + row) * width + column) * 4
        let bytes = UnsafeMutableRawBufferPointer(values)
        var done = 0
        while done < bytes.count {
            let n = pread(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw PipelineFileError.readFailed(path: path, reason: "reading back byte \(offset + done) failed (\(n < 0 ? String(cString: strerror(errno)) : "end of file"))")
            }
            done += n
        }
    }

    /// Deletes the temporary file without publishing it.
    func discard() {
        guard !finished else { return }
        close(descriptor)
        unlink(temporary)
        finished = true
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw PipelineFileError.cannotWrite(path: path, reason: "write failed at byte \(offset + done) (\(String(cString: strerror(errno))))")
            }
            done += n
        }
    }

    /// Writes the header and directories, closes the file and renames it into place.
    func finish() throws {
        var tail: [UInt8] = []
        let tailStart = dataStart + width * height * pageCount * 4
        func put16(_ v: Int) { tail.append(UInt8(v & 0xFF)); tail.append(UInt8(v >> 8 & 0xFF)) }
        func put32(_ v: Int) { for k in 0..<4 { tail.append(UInt8(v >> (8 * k) & 0xFF)) } }
        func put64(_ v: Int) { for k in 0..<8 { tail.append(UInt8(v >> (8 * k) & 0xFF)) } }
        var text = Array(description.utf8)
        text.append(0)
        let descriptionOffset = tailStart
        tail.append(contentsOf: text)
        if tail.count % 2 == 1 { tail.append(0) }
        let entryCount = 11
        let ifdSize = big ? 8 + entryCount * 20 + 8 : 2 + entryCount * 12 + 4
        let pageBytes = width * height * 4
        var firstIFD = 0
        for page in 0..<pageCount {
            let ifdOffset = tailStart + tail.count
            if page == 0 { firstIFD = ifdOffset }
            let next = page + 1 < pageCount ? ifdOffset + ifdSize : 0
            // (tag, type, count, value): SHORT = 3, LONG = 4, ASCII = 2, LONG8 = 16.
            let offsetType = big ? 16 : 4
            let entries: [(Int, Int, Int, Int)] = [
                (256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 32), (259, 3, 1, 1), (262, 3, 1, 1),
                (270, 2, text.count, descriptionOffset),
                (273, offsetType, 1, dataStart + page * pageBytes), (277, 3, 1, 1), (278, 4, 1, height),
                (279, offsetType, 1, pageBytes), (339, 3, 1, 3),
            ]
            if big { put64(entries.count) } else { put16(entries.count) }
            for (tag, type, count, value) in entries {
                put16(tag); put16(type)
                if big { put64(count); put64(value) } else {
                    put32(count)
                    if type == 3 { put16(value); put16(0) } else { put32(value) }
                }
            }
            if big { put64(next) } else { put32(next) }
        }
        var header: [UInt8] = [0x49, 0x49]
        if big {
            header += [43, 0, 8, 0, 0, 0]
            for k in 0..<8 { header.append(UInt8(firstIFD >> (8 * k) & 0xFF)) }
        } else {
            header += [42, 0]
            for k in 0..<4 { header.append(UInt8(firstIFD >> (8 * k) & 0xFF)) }
        }
        try header.withUnsafeBytes { try writeAll($0, at: 0) }
        try tail.withUnsafeBytes { try writeAll($0, at: tailStart) }
        guard close(descriptor) == 0 else {
            throw PipelineFileError.cannotWrite(path: path, reason: "closing failed (\(String(cString: strerror(errno))))")
        }
        finished = true
        try AtomicFile.commit(temporary, to: path)
    }
}
