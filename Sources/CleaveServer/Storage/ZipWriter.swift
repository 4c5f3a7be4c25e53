import CleaveFormats
import Foundation

/// Writes a zip archive (stored entries, no compression — images are already compact or
/// incompressible noise, and stored entries stream without buffering) with CRC-32 checksums.
///
/// ```
/// [local header + name + data] × n   [central directory entry] × n   [end of central directory]
/// ```
/// Entries and the archive are limited to 4 GiB each (no Zip64); larger inputs are an error.
public final class ZipWriter {
    private let handle: FileHandle
    private var offset: UInt64 = 0
    private var central: [UInt8] = []
    private var count = 0
    /// The archive's file path.
    public let path: String

    /// Creates (or truncates) the archive file at `path`.
    ///
    /// - Throws: ``APIError`` 500 when the file cannot be created; the file system's error when it
    /// cannot then be opened for writing.
    public init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw APIError(.internalServerError, "cannot create the export archive")
        }
        self.path = path
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    /// Adds an entry from memory.
    public func add(_ name: String, bytes: [UInt8]) throws {
        try add(name, size: UInt64(bytes.count), crc: CRC32.checksum(bytes)) { write in try write(bytes) }
    }

    /// Adds an entry from a file, read twice in 1 MiB chunks (checksum, then copy): memory stays bounded.
    public func add(_ name: String, file: String) throws {
        guard let reader = FileHandle(forReadingAtPath: file) else { throw APIError(.internalServerError, "cannot read \(file)") }
        defer { try? reader.close() }
        var crc = CRC32(), size: UInt64 = 0
        while let chunk = try reader.read(upToCount: 1 << 20), !chunk.isEmpty {
            crc.update(chunk)
            size += UInt64(chunk.count)
        }
        try reader.seek(toOffset: 0)
        try add(name, size: size, crc: crc.value) { write in
            while let chunk = try reader.read(upToCount: 1 << 20), !chunk.isEmpty { try write([UInt8](chunk)) }
        }
    }

    private func add(_ name: String, size: UInt64, crc: UInt32, body: (([UInt8]) throws -> Void) throws -> Void) throws {
        guard size < 0xFFFF_FFFF, offset < 0xFFFF_FFFF else {
            throw APIError(.contentTooLarge, "zip entry \(name) or the archive exceeds 4 GiB (Zip64 is not supported)")
        }
        let nameBytes = Array(name.utf8)
        guard count < 0xFFFF, nameBytes.count <= 0xFFFF else {
            throw APIError(.contentTooLarge, "the archive would hold more than 65535 entries or a name over 64 KiB (Zip64 is not supported)")
        }
        var local: [UInt8] = []
        local.le32(0x0403_4b50); local.le16(20); local.le16(0x0800)   // version 2.0, UTF-8 names
        local.le16(0); local.le16(0); local.le16(0x21)                 // stored; DOS time 00:00:00, date 1980-01-01
        local.le32(crc); local.le32(UInt32(size)); local.le32(UInt32(size))
        local.le16(UInt16(nameBytes.count)); local.le16(0)
        local += nameBytes
        var entry: [UInt8] = []
        entry.le32(0x0201_4b50); entry.le16(20); entry.le16(20); entry.le16(0x0800)
        entry.le16(0); entry.le16(0); entry.le16(0x21)
        entry.le32(crc); entry.le32(UInt32(size)); entry.le32(UInt32(size))
        entry.le16(UInt16(nameBytes.count)); entry.le16(0); entry.le16(0); entry.le16(0); entry.le16(0)
        entry.le32(0); entry.le32(UInt32(offset))
        entry += nameBytes
        central += entry
        try write(local)
        try body { try self.write($0) }
        count += 1
    }

    private func write(_ bytes: [UInt8]) throws {
        try handle.write(contentsOf: Data(bytes))
        offset += UInt64(bytes.count)
    }

    /// Writes the central directory and closes the file.
    /// - Throws: 413 when the entries end past 4 GiB (the directory's offsets are 32-bit), instead
    ///   of trapping on the conversion.
    public func finish() throws {
        let start = offset
        guard start < 0xFFFF_FFFF, UInt64(central.count) < 0xFFFF_FFFF - start else {
            try? handle.close()
            throw APIError(.contentTooLarge, "the archive exceeds 4 GiB (Zip64 is not supported); export fewer images at once")
        }
        try write(central)
        var end: [UInt8] = []
        end.le32(0x0605_4b50); end.le16(0); end.le16(0)
        end.le16(UInt16(count)); end.le16(UInt16(count))
        end.le32(UInt32(central.count)); end.le32(UInt32(start)); end.le16(0)
        try write(end)
        try handle.close()
    }
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) as zip and PNG use it: a running
/// checksum over ``Checksums/crc32(_:continuing:)``, the one CRC-32 of Cleave (zlib's values).
public struct CRC32: Sendable {
    /// The CRC-32 of all bytes fed so far (feeding more bytes afterwards continues the same checksum).
    public private(set) var value: UInt32 = 0

    /// A checksum of no bytes yet.
    public init() {}

    /// Feeds `bytes` into the running checksum (call any number of times, in order).
    /// - Complexity: O(n) in the number of bytes.
    public mutating func update(_ bytes: some ContiguousBytes) {
        value = Checksums.crc32(bytes, continuing: value)
    }

    /// The CRC-32 of `bytes` in one call.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 { Checksums.crc32(bytes) }
}

private extension Array where Element == UInt8 {
    mutating func le16(_ v: UInt16) { append(UInt8(v & 0xFF)); append(UInt8(v >> 8)) }
    mutating func le32(_ v: UInt32) { for s in stride(from: 0, to: 32, by: 8) { append(UInt8((v >> UInt32(s)) & 0xFF)) } }
}
