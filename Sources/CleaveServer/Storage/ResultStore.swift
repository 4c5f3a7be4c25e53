import Foundation

/// Files derived from images (label maps, probabilities, uncertainty, trained models), named by
/// the id of the result they belong to: `results/<kind>/<id>.<part>`. They are written once
/// (write-then-rename, so a crash never leaves half a file under the final name) and read back
/// by the routes; the database holds everything else about the result.
public struct ResultStore: Sendable {
    /// The `results` directory under the data directory; each kind of result has a subdirectory.
    public let directory: String

    init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func path(_ kind: String, _ id: String, _ part: String) -> String { "\(directory)/\(kind)/\(id).\(part)" }

    /// Writes raw bytes.
    func write(_ bytes: [UInt8], kind: String, id: String, part: String) throws {
        let target = path(kind, id, part)
        try FileManager.default.createDirectory(atPath: "\(directory)/\(kind)", withIntermediateDirectories: true)
        let temporary = target + ".part"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
            throw APIError(.internalServerError, "cannot write result file \(kind)/\(id).\(part)")
        }
        guard rename(temporary, target) == 0 else { throw APIError(.internalServerError, "cannot store result file \(kind)/\(id).\(part)") }
    }

    /// Removes every part of the results `ids` of one kind (`<kind>/<id>.*`, also a `.part` left by
    /// a crash); parts that are already gone are fine.
    func remove(kind: String, ids: Set<String>) {
        guard !ids.isEmpty else { return }
        let folder = "\(directory)/\(kind)"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            guard let dot = name.firstIndex(of: "."), ids.contains(String(name[..<dot])) else { continue }
            unlink(folder + "/" + name)
        }
    }

    /// Reads raw bytes. - Throws: 500 when missing (the database names a result whose file is gone).
    func read(kind: String, id: String, part: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path(kind, id, part)) else {
            throw APIError(.internalServerError, "result file \(kind)/\(id).\(part) is missing")
        }
        return [UInt8](data)
    }

    func write<T: FixedWidthInteger>(_ values: [T], kind: String, id: String, part: String) throws {
        try write(values.withUnsafeBytes { [UInt8]($0) }, kind: kind, id: id, part: part)
    }

    func readArray<T: FixedWidthInteger>(_ type: T.Type, kind: String, id: String, part: String) throws -> [T] {
        let bytes = try read(kind: kind, id: id, part: part)
        let count = bytes.count / MemoryLayout<T>.size
        return [T](unsafeUninitializedCapacity: count) { buffer, initialised in
            bytes.withUnsafeBytes { raw in
                _ = memcpy(buffer.baseAddress!, raw.baseAddress!, count * MemoryLayout<T>.size)
            }
            initialised = count
        }
    }

    func write(_ values: [Float], kind: String, id: String, part: String) throws {
        try write(values.withUnsafeBytes { [UInt8]($0) }, kind: kind, id: id, part: part)
    }

    func readFloats(kind: String, id: String, part: String) throws -> [Float] {
        let bytes = try read(kind: kind, id: id, part: part)
        let count = bytes.count / 4
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialised in
            bytes.withUnsafeBytes { raw in _ = memcpy(buffer.baseAddress!, raw.baseAddress!, count * 4) }
            initialised = count
        }
    }
}
