import CleaveCore

/// What a TIFF says about axes and physical size, from the places microscopy software writes it.
///
/// Priority for spacing: ImageJ description, OME-XML, FEI/Thermo tag 34682, ZEISS tag 34118,
/// then XResolution/YResolution with a centimetre (or fine inch) unit.
struct TIFFMetadata: Sendable {
    var spacing: Spacing?
    var spacingSource: String?
    /// Hyperstack axes when the file declares them: channels, slices (z), frames (t) and the
    /// order of pages, fastest first (e.g. "CZT" for ImageJ).
    var channels = 1
    var slices = 1
    var frames = 1
    var pageOrder = "CZT"
    var declaresAxes = false
    /// ImageJ's `images=` (pages in the stack, even when only the first has a directory).
    var imageJImages: Int?
    var entries: [String: String] = [:]

    /// Gathers metadata from the first page's directory.
    init(directory dir: TIFFDirectory, values: TIFFValueReader) {
        func text(_ tag: Int) -> String? {
            guard let e = dir.entries[tag] else { return nil }
            return try? values.string(e, page: dir.index)
        }
        let description = text(TIFFTag.imageDescription)
        if let software = text(TIFFTag.software), !software.isEmpty { entries["software"] = software }
        if let make = text(TIFFTag.make), !make.isEmpty { entries["make"] = make }
        if let model = text(TIFFTag.model), !model.isEmpty { entries["model"] = model }
        if let date = text(TIFFTag.dateTime), !date.isEmpty { entries["dateTime"] = date }
        if let description, !description.isEmpty {
            entries["description"] = description.count > 2000 ? String(description.prefix(2000)) + "…" : description
            if description.hasPrefix("ImageJ=") {
                parseImageJ(description, directory: dir, values: values)
            } else if description.contains("<OME") {
                parseOME(description)
            }
        }
        if spacing == nil, let fei = text(TIFFTag.feiHelios) ?? text(TIFFTag.feiSFEG) { parseFEI(fei) }
        if spacing == nil, let zeiss = text(TIFFTag.zeissSEM) { parseZeiss(zeiss) }
        if spacing == nil { parseResolution(directory: dir, values: values, unitOverride: nil) }
    }

    // MARK: ImageJ

    private mutating func parseImageJ(_ description: String, directory dir: TIFFDirectory, values: TIFFValueReader) {
        var fields: [String: String] = [:]
        for line in description.split(whereSeparator: { $0.isNewline }) {
            guard let eq = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        entries["imagej"] = fields["ImageJ"] ?? ""
        imageJImages = fields["images"].flatMap { Int($0) }.flatMap { $0 >= 1 && $0 <= TIFFDirectoryParser.maximumPages ? $0 : nil }
        let c = fields["channels"].flatMap { Int($0) } ?? 1
        let z = fields["slices"].flatMap { Int($0) } ?? 1
        let t = fields["frames"].flatMap { Int($0) } ?? 1
        if TIFFMetadata.plausibleAxes(c, z, t), c * z * t > 1 {
            channels = c; slices = z; frames = t; pageOrder = "CZT"; declaresAxes = true
        }
        if let unit = fields["unit"], !unit.isEmpty, unit != "pixel", unit != "pixels" {
            parseResolution(directory: dir, values: values, unitOverride: unit)
            if var s = spacing {
                spacingSource = "ImageJ"
                if let dz = fields["spacing"].flatMap(Double.init), dz > 0, dz.isFinite { s.z = dz } else { s.z = 1 }
                spacing = s
            }
        }
    }

    /// Axis sizes a file can really have (each ≥ 1, product ≤ the page limit); guards the
    /// arithmetic against hostile values.
    static func plausibleAxes(_ c: Int, _ z: Int, _ t: Int) -> Bool {
        let limit = TIFFDirectoryParser.maximumPages
        return c >= 1 && z >= 1 && t >= 1 && c <= limit && z <= limit && t <= limit
            && c * z <= limit && c * z * t <= limit
    }

    // MARK: OME-XML

    private mutating func parseOME(_ xml: String) {
        guard let pixelsStart = xml.firstRange(of: "<Pixels ") ?? xml.firstRange(of: ":Pixels ") else { return }
        let tail = xml[pixelsStart.upperBound...]
        let element = tail.prefix { $0 != ">" }
        func attribute(_ name: String) -> String? {
            guard let r = element.firstRange(of: " \(name)=\"") else { return nil }
            let value = element[r.upperBound...].prefix { $0 != "\"" }
            return String(value)
        }
        entries["ome"] = "true"
        let c = attribute("SizeC").flatMap { Int($0) } ?? 1
        let z = attribute("SizeZ").flatMap { Int($0) } ?? 1
        let t = attribute("SizeT").flatMap { Int($0) } ?? 1
        let order = attribute("DimensionOrder") ?? "XYCZT"
        if TIFFMetadata.plausibleAxes(c, z, t), order.count == 5, order.hasPrefix("XY"),
           Set(order.dropFirst(2)) == Set("CZT") {
            channels = c; slices = z; frames = t
            pageOrder = String(order.dropFirst(2))
            declaresAxes = c * z * t > 1
        }
        if let type = attribute("Type") { entries["omeType"] = type }
        guard let x = attribute("PhysicalSizeX").flatMap(Double.init), x > 0, x.isFinite else { return }
        let y = attribute("PhysicalSizeY").flatMap(Double.init).flatMap { $0 > 0 && $0.isFinite ? $0 : nil } ?? x
        var unit = attribute("PhysicalSizeXUnit") ?? "µm"
        if unit == "&#181;m" || unit == "&#xB5;m" { unit = "µm" }
        guard var s = Spacing.checked(x: x, y: y, z: 1, unit: unit) else { return }
        if let dz = attribute("PhysicalSizeZ").flatMap(Double.init), dz > 0, dz < 1e12 {
            let zUnit = attribute("PhysicalSizeZUnit") ?? "µm"
            if let inX = Spacing(dz, unit: zUnit).converted(toUnit: s.unit), inX.x.isFinite, inX.x > 0 { s.z = inX.x } else { s.z = dz }
        }
        spacing = s
        spacingSource = "OME"
    }

    // MARK: Vendors

    private mutating func parseFEI(_ text: String) {
        var width: Double?
        var height: Double?
        for line in text.split(whereSeparator: { $0.isNewline }) {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingSpaces() }
            guard parts.count == 2 else { continue }
            if parts[0] == "PixelWidth", width == nil { width = Double(parts[1]) }
            if parts[0] == "PixelHeight", height == nil { height = Double(parts[1]) }
        }
        entries["vendor"] = "FEI/Thermo Fisher"
        guard let w = width, w > 0, w.isFinite else { return }
        let h = height.flatMap { $0 > 0 && $0.isFinite ? $0 : nil } ?? w
        // Metres → nanometres for readable numbers.
        spacing = Spacing.checked(x: w * 1e9, y: h * 1e9, z: 1, unit: "nm")
        spacingSource = "FEI"
    }

    private mutating func parseZeiss(_ text: String) {
        entries["vendor"] = "ZEISS"
        for line in text.split(whereSeparator: { $0.isNewline }) {
            guard line.contains("Pixel Size"), let eq = line.firstIndex(of: "=") else { continue }
            let value = line[line.index(after: eq)...].trimmingSpaces().split(separator: " ")
            guard value.count >= 2, let size = Double(value[0]), size > 0, size < 1e12 else { continue }
            let unit = Spacing.normalizedUnit(String(value[1]))
            guard Spacing(1, unit: unit).micrometresPerUnit != nil else { continue }
            spacing = Spacing(x: size, y: size, z: 1, unit: unit)
            spacingSource = "ZEISS"
            return
        }
    }

    // MARK: Resolution tags

    /// XResolution/YResolution are pixels per unit. Without an override, only centimetres and
    /// inch resolutions finer than 1200 dpi count as physical (72–1200 dpi are print settings).
    private mutating func parseResolution(directory dir: TIFFDirectory, values: TIFFValueReader, unitOverride: String?) {
        guard let xe = dir.entries[TIFFTag.xResolution],
              let xr = (try? values.doubles(xe, page: dir.index))?.first, xr > 0, xr.isFinite else { return }
        let yr = dir.entries[TIFFTag.yResolution].flatMap { (try? values.doubles($0, page: dir.index))?.first }
            .flatMap { $0 > 0 && $0.isFinite ? $0 : nil } ?? xr
        let unitCode = (try? values.integer(dir, TIFFTag.resolutionUnit, default: 2)) ?? 2
        if let unit = unitOverride {
            spacing = Spacing.checked(x: 1 / xr, y: 1 / yr, z: 1, unit: unit)
            return
        }
        switch unitCode {
        case 3:
            spacing = Spacing.checked(x: 1e4 / xr, y: 1e4 / yr, z: 1, unit: "µm")
        case 2 where xr > 1200:
            spacing = Spacing.checked(x: 25_400 / xr, y: 25_400 / yr, z: 1, unit: "µm")
        default:
            return
        }
        spacingSource = "resolution tags"
    }
}

extension Substring {
    /// The substring without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}

extension Spacing {
    /// A spacing when all sizes are finite and positive (file values are untrusted), else nil.
    static func checked(x: Double, y: Double, z: Double, unit: String) -> Spacing? {
        guard x > 0, y > 0, z > 0, x.isFinite, y.isFinite, z.isFinite else { return nil }
        return Spacing(x: x, y: y, z: z, unit: unit)
    }
}
