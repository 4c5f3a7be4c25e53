/// The file formats Cleave reads and writes.
public enum ImageFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    /// TIFF, classic or BigTIFF (".tif", ".tiff").
    case tiff
    /// PNG (".png").
    case png
    /// MRC2014 (".mrc", ".mrcs", ".map", ".st", ".rec", ".ali").
    case mrc
    /// OME-Zarr (NGFF 0.4 / Zarr v2, NGFF 0.5 / Zarr v3) or a plain Zarr array: a directory
    /// (".zarr", ".ome.zarr"), recognised by its metadata files.
    case omeZarr = "ome-zarr"

    /// Recognises a format from the first bytes of a file (at least 8; MRC needs 212).
    /// - Returns: nil when the bytes match no supported format.
    public static func detect(_ head: [UInt8]) -> ImageFormat? {
        if head.count >= 4 {
            let ii = head[0] == 0x49 && head[1] == 0x49 && (head[2] == 42 || head[2] == 43) && head[3] == 0
            let mm = head[0] == 0x4D && head[1] == 0x4D && head[2] == 0 && (head[3] == 42 || head[3] == 43)
            if ii || mm { return .tiff }
        }
        if head.count >= 8, head[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if MRCHeader.looksLikeMRC(head) { return .mrc }
        return nil
    }

    /// The format a file name's extension asks for (case-insensitive), or nil.
    public static func fromExtension(_ path: String) -> ImageFormat? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: ".") else { return nil }
        switch name[name.index(after: dot)...].lowercased() {
        case "tif", "tiff", "btf", "tf8": return .tiff
        case "png": return .png
        case "mrc", "mrcs", "map", "st", "rec", "ali": return .mrc
        case "zarr": return .omeZarr
        default: return nil
        }
    }

    public var description: String { rawValue }
}
