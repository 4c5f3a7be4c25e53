import CleaveCore

/// Measures every object of a label image: shape (scikit-image `regionprops` conventions),
/// physical sizes, intensity statistics and the core-to-rim profile.
///
/// 2D columns (pixel units; scikit-image name in brackets where it differs):
///
/// | column | definition |
/// |---|---|
/// | `area` | pixel count |
/// | `perimeter` | scikit-image `perimeter(…, neighborhood=4)`: border pixels weighted 1, √2 or (1+√2)/2 by their border neighbours |
/// | `centroid_row`, `centroid_col` | mean pixel coordinate (0-based) |
/// | `bbox_min_row`, `bbox_min_col`, `bbox_max_row`, `bbox_max_col` | bounding box, max exclusive (`bbox`) |
/// | `major_axis_length`, `minor_axis_length` | 4·√eigenvalue of the inertia tensor (`axis_major_length`) |
/// | `orientation` | angle between the row axis and the major axis, radians in [−π/2, π/2] |
/// | `eccentricity` | √(1 − λ₂/λ₁) |
/// | `area_convex`, `solidity` | pixels in the convex hull of pixel edge midpoints; area / area_convex |
/// | `equivalent_diameter` | √(4·area/π) (`equivalent_diameter_area`) |
/// | `circularity` | 4π·area / perimeter² (NaN when the perimeter is 0: one-pixel objects) |
/// | `feret_diameter_max` | as scikit-image: largest distance between contour points of the convex image |
/// | `feret_diameter_min` | smallest caliper width of the same contour points |
/// | `touches_border` | 1 when the object has a pixel on the image edge |
///
/// 3D columns: `volume`, `surface_area` (Cauchy–Crofton estimate over 13 directions, see
/// `SurfaceArea.swift`: within ~1 % on a ball), `voxel_faces` (faces between the object and
/// anything else — a staircase surface, ≈ 1.5× a smooth one),
/// `centroid_plane/row/col`, `bbox_…` with `plane`, `major_axis_length`, `minor_axis_length`
/// (scikit-image 3D formulas), `equivalent_diameter` = (6V/π)^⅓, `sphericity` = π^⅓ (6V)^⅔ / surface,
/// `touches_border`.
///
/// With spacing, lengths also appear in physical units with a unit suffix (`_um`; areas `_um2`,
/// volumes `_um3`). Anisotropic in-plane spacing scales lengths by √(sx·sy) (exact for areas,
/// an approximation for lengths, stated in the column docs).
public enum ObjectMeasurement {
    /// Shape measurements that only exist in 2D (asking for them on a volume is an error).
    public static let twoDimensionalOnly: Set<String> = [
        "perimeter", "eccentricity", "solidity", "area_convex", "orientation", "circularity",
        "feret_diameter_max", "feret_diameter_min",
    ]

    /// Measures all objects.
    /// - Parameters:
    ///   - labels: the objects (labels need not be consecutive; unused labels get no row).
    ///   - intensity: optional grey image of the same width/height/depth, any channel count:
    ///     adds `mean_intensity`, `std_intensity`, `min_intensity`, `max_intensity`,
    ///     `intensity_pNN` per channel (suffix `_c2`, … for channels after the first), and the
    ///     core-to-rim profile of channel 0 (see ``CoreRimProfile``).
    ///   - percentiles: percentiles of the intensity in 0…100 (numpy's linear interpolation).
    ///   - shellCount: shells of the core-to-rim profile (≥ 2).
    /// - Throws: ``ObjectsError`` when the intensity image does not match the labels.
    public static func measure(_ labels: LabelImage, intensity: Image<Float>? = nil,
                               percentiles: [Double] = [10, 50, 90], shellCount: Int = 5) throws -> ObjectTable {
        if let intensity, intensity.width != labels.shape.width || intensity.height != labels.shape.height
            || intensity.depth != labels.shape.depth {
            throw ObjectsError.sizeMismatch(image: "intensity image", shape: "\(intensity.shape)", labels: "\(labels.shape)")
        }
        for p in percentiles where !(p >= 0 && p <= 100) {
            throw ObjectsError.invalidParameter(field: "percentiles", value: "\(p)", reason: "a percentile is 0…100")
        }
        guard shellCount >= 2 else { throw ObjectsError.invalidParameter(field: "shellCount", value: "\(shellCount)", reason: "must be at least 2") }
        var table = labels.is2D ? shape2D(labels) : shape3D(labels)
        if let intensity {
            IntensityStatistics.add(to: &table, labels: labels, intensity: intensity, percentiles: percentiles,
                                    shellCount: shellCount)
        }
        return table
    }

    /// Unit suffix for physical columns: "um" for anything convertible to micrometres.
    static func physical(_ spacing: Spacing?) -> (spacing: Spacing, suffix: String)? {
        guard let spacing else { return nil }
        if let micro = spacing.converted(toUnit: "µm") { return (micro, "um") }
        let suffix = String(spacing.unit.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil) }.map(Character.init))
        return (spacing, suffix.isEmpty ? "units" : suffix)
    }

    static func shape2D(_ image: LabelImage) -> ObjectTable {
        let width = image.shape.width, height = image.shape.height, objectCount = image.objectCount
        typealias F = ShapeSums2D.Field
        let (sums, extents) = image.labels.withUnsafeBufferPointer { labels in
            let border = ShapeKernels2D.borderMap(labels, width: width, height: height)
            let sums = ShapeKernels2D.sums(labels, border: border, width: width, height: height, objectCount: objectCount)
            let extents = ShapeKernels2D.rowExtents(labels, width: width, height: height, sums: sums, objectCount: objectCount)
            return (sums, extents)
        }
        let present = (0...objectCount).filter { $0 > 0 && sums.get($0, F.count) > 0 }
        let n = present.count
        var convex = [Double](repeating: 0, count: n), feretMax = convex, feretMin = convex
        convex.withUnsafeMutableBufferPointer { c in
            feretMax.withUnsafeMutableBufferPointer { fx in
                feretMin.withUnsafeMutableBufferPointer { fn in
                    let cb = UncheckedSendable(c), fxb = UncheckedSendable(fx), fnb = UncheckedSendable(fn)
                    Parallel.forEachChunk(of: n, chunkCount: Parallel.chunkCount(total: n, minimumPerChunk: 64)) { range in
                        for row in range {
                            let l = present[row]
                            let lo = extents.offsets[l], hi = extents.offsets[l + 1]
                            let m = ConvexGeometry.measure(first: extents.first[lo..<hi], last: extents.last[lo..<hi],
                                                           minRow: Int(sums.get(l, F.minRow)))
                            cb.value[row] = Double(m.convexArea)
                            fxb.value[row] = m.feretMax
                            fnb.value[row] = m.feretMin
                        }
                    }
                }
            }
        }
        var table = ObjectTable(labels: present.map { Int32($0) })
        var area = [Double](), perimeter = [Double](), cr = [Double](), cc = [Double]()
        var ecc = [Double](), solidity = [Double](), eqd = [Double](), orient = [Double](), major = [Double](), minor = [Double]()
        var b0 = [Double](), b1 = [Double](), b2 = [Double](), b3 = [Double](), circ = [Double](), touch = [Double]()
        let root2 = 2.0.squareRoot()
        for (row, l) in present.enumerated() {
            let count = sums.get(l, F.count)
            let n = Double(count)
            let r0 = sums.get(l, F.minRow), c0 = sums.get(l, F.minColumn)
            // Moments about the box corner (exact integers), then central moments.
            let sr = sums.get(l, F.sumRow) - count * r0
            let sc = sums.get(l, F.sumColumn) - count * c0
            let srr = sums.get(l, F.sumRowRow) - 2 * r0 * sums.get(l, F.sumRow) + count * r0 * r0
            let scc = sums.get(l, F.sumColumnColumn) - 2 * c0 * sums.get(l, F.sumColumn) + count * c0 * c0
            let src = sums.get(l, F.sumRowColumn) - r0 * sums.get(l, F.sumColumn) - c0 * sums.get(l, F.sumRow) + count * r0 * c0
            let muRR = Double(srr) - Double(sr) * Double(sr) / n
            let muCC = Double(scc) - Double(sc) * Double(sc) / n
            let muRC = Double(src) - Double(sr) * Double(sc) / n
            let a = muCC / n, b = -muRC / n, c = muRR / n
            let mean = (a + c) / 2, spread = (((a - c) / 2) * ((a - c) / 2) + b * b).squareRoot()
            let l1 = max(0, mean + spread), l2 = max(0, mean - spread)
            let p = Double(sums.get(l, F.perimeterStraight)) + Double(sums.get(l, F.perimeterDiagonal)) * root2
                + Double(sums.get(l, F.perimeterCorner)) * (1 + root2) / 2
            area.append(n)
            perimeter.append(p)
            cr.append(Double(r0) + Double(sr) / n)
            cc.append(Double(c0) + Double(sc) / n)
            ecc.append(l1 == 0 ? 0 : (1 - l2 / l1).squareRoot())
            solidity.append(n / convex[row])
            eqd.append((4 * n / Double.pi).squareRoot())
            orient.append(a - c == 0 ? (b < 0 ? Double.pi / 4 : -Double.pi / 4) : 0.5 * atan2(-2 * b, c - a))
            major.append(4 * l1.squareRoot())
            minor.append(4 * l2.squareRoot())
            b0.append(Double(r0)); b1.append(Double(c0))
            b2.append(Double(sums.get(l, F.maxRow) + 1)); b3.append(Double(sums.get(l, F.maxColumn) + 1))
            circ.append(p > 0 ? 4 * Double.pi * n / (p * p) : .nan)
            touch.append(Double(sums.get(l, F.touchesBorder)))
        }
        table.setColumn("area", area)
        table.setColumn("perimeter", perimeter)
        table.setColumn("centroid_row", cr)
        table.setColumn("centroid_col", cc)
        table.setColumn("eccentricity", ecc)
        table.setColumn("solidity", solidity)
        table.setColumn("equivalent_diameter", eqd)
        table.setColumn("bbox_min_row", b0)
        table.setColumn("bbox_min_col", b1)
        table.setColumn("bbox_max_row", b2)
        table.setColumn("bbox_max_col", b3)
        table.setColumn("area_convex", convex)
        table.setColumn("orientation", orient)
        table.setColumn("major_axis_length", major)
        table.setColumn("minor_axis_length", minor)
        table.setColumn("circularity", circ)
        table.setColumn("feret_diameter_max", feretMax)
        table.setColumn("feret_diameter_min", feretMin)
        table.setColumn("touches_border", touch)
        if let (s, unit) = physical(image.spacing) {
            let length = (s.x * s.y).squareRoot(), pixelArea = s.x * s.y
            table.setColumn("area_\(unit)2", area.map { $0 * pixelArea })
            for name in ["perimeter", "equivalent_diameter", "major_axis_length", "minor_axis_length",
                         "feret_diameter_max", "feret_diameter_min"] {
                table.setColumn("\(name)_\(unit)", (try? table.column(name))!.map { $0 * length })
            }
        }
        return table
    }

    static func shape3D(_ image: LabelImage) -> ObjectTable {
        let sums = image.labels.withUnsafeBufferPointer {
            ShapeSums3D.unsafeAccumulate($0, window: Region(covering: image.shape), volume: image.shape, inner: Region(covering: image.shape),
                                   objectCount: image.objectCount)
        }
        return shape3D(sums, spacing: image.spacing)
    }

    /// The 3D shape columns of every label with voxels, from its integer sums (whole-volume and
    /// block-wise measurement share this arithmetic, so equal sums give equal numbers).
    public static func shape3D(_ sums: ShapeSums3D, spacing: Spacing?) -> ObjectTable {
        let objectCount = sums.objectCount
        let sp = spacing ?? Spacing(1, unit: "px")
        let stride = ShapeSums3D.stride
        let acc = sums.values
        let present = (1..<(objectCount + 1)).filter { acc[$0 * stride] > 0 }
        let crofton = SurfaceArea.area(sums, spacing: (sp.x, sp.y, sp.z))
        let pixelCrofton = spacing == nil ? crofton : SurfaceArea.area(sums, spacing: (1, 1, 1))
        var table = ObjectTable(labels: present.map { Int32($0) })
        var columns: [String: [Double]] = [:]
        let names = ["volume", "surface_area", "voxel_faces", "centroid_plane", "centroid_row", "centroid_col", "equivalent_diameter",
                     "sphericity", "major_axis_length", "minor_axis_length",
                     "bbox_min_plane", "bbox_min_row", "bbox_min_col", "bbox_max_plane", "bbox_max_row", "bbox_max_col",
                     "touches_border"]
        for name in names { columns[name] = [] }
        var physicalVolume: [Double] = [], physicalSurface: [Double] = [], physicalDiameter: [Double] = []
        var physicalMajor: [Double] = [], physicalMinor: [Double] = []
        for l in present {
            let base = l * stride
            let n = Double(acc[base])
            let mins = [acc[base + 10], acc[base + 11], acc[base + 12]]
            // shift to the box corner, then central second moments
            let s1 = (0..<3).map { Double(acc[base + 1 + $0] - acc[base] * mins[$0]) }
            func raw2(_ i: Int, _ j: Int, _ field: Int) -> Double {
                let si = acc[base + 1 + i], sj = acc[base + 1 + j]
                return Double(acc[base + field] - mins[i] * sj - mins[j] * si + acc[base] * mins[i] * mins[j])
            }
            let second = [[raw2(0, 0, 4), raw2(0, 1, 7), raw2(0, 2, 8)],
                          [raw2(0, 1, 7), raw2(1, 1, 5), raw2(1, 2, 9)],
                          [raw2(0, 2, 8), raw2(1, 2, 9), raw2(2, 2, 6)]]
            func eigenvalues(_ scale: [Double]) -> [Double] {
                var mu = [[Double]](repeating: [0, 0, 0], count: 3)
                for i in 0..<3 { for j in 0..<3 { mu[i][j] = (second[i][j] - s1[i] * s1[j] / n) * scale[i] * scale[j] } }
                // inertia tensor as scikit-image: diagonal = sum of the other axes' variances
                let trace = mu[0][0] + mu[1][1] + mu[2][2]
                var tensor = [[Double]](repeating: [0, 0, 0], count: 3)
                for i in 0..<3 { for j in 0..<3 { tensor[i][j] = i == j ? (trace - mu[i][i]) / n : -mu[i][j] / n } }
                return SymmetricEigen(symmetric: tensor.flatMap { $0 }, size: 3).values.map { max(0, $0) }
            }
            func axes(_ ev: [Double]) -> (Double, Double) {
                (max(0, 10 * (ev[0] + ev[1] - ev[2])).squareRoot(), max(0, 10 * (-ev[0] + ev[1] + ev[2])).squareRoot())
            }
            let (major, minor) = axes(eigenvalues([1, 1, 1]))
            let (physicalMajorLength, physicalMinorLength) = axes(eigenvalues([sp.z, sp.y, sp.x]))
            let voxel = sp.x * sp.y * sp.z
            let surface = crofton[l]
            let volume = n * voxel
            let faces = Double(acc[base + 16] + acc[base + 17] + acc[base + 18])
            columns["volume"]!.append(n)
            columns["surface_area"]!.append(pixelCrofton[l])
            columns["voxel_faces"]!.append(faces)
            columns["centroid_plane"]!.append(Double(mins[0]) + s1[0] / n)
            columns["centroid_row"]!.append(Double(mins[1]) + s1[1] / n)
            columns["centroid_col"]!.append(Double(mins[2]) + s1[2] / n)
            columns["equivalent_diameter"]!.append(cbrt(6 * n / Double.pi))
            columns["sphericity"]!.append(cbrt(Double.pi) * pow(6 * volume, 2.0 / 3.0) / surface)
            columns["major_axis_length"]!.append(major)
            columns["minor_axis_length"]!.append(minor)
            for (k, name) in ["bbox_min_plane", "bbox_min_row", "bbox_min_col"].enumerated() { columns[name]!.append(Double(mins[k])) }
            for (k, name) in ["bbox_max_plane", "bbox_max_row", "bbox_max_col"].enumerated() { columns[name]!.append(Double(acc[base + 13 + k] + 1)) }
            columns["touches_border"]!.append(Double(acc[base + 19]))
            physicalVolume.append(volume); physicalSurface.append(surface)
            physicalDiameter.append(cbrt(6 * volume / Double.pi))
            physicalMajor.append(physicalMajorLength); physicalMinor.append(physicalMinorLength)
        }
        for name in names { table.setColumn(name, columns[name]!) }
        if let (s, unit) = physical(spacing) {
            let factor = s.x / sp.x // spacing converted to micrometres (or kept)
            table.setColumn("volume_\(unit)3", physicalVolume.map { $0 * factor * factor * factor })
            table.setColumn("surface_area_\(unit)2", physicalSurface.map { $0 * factor * factor })
            table.setColumn("equivalent_diameter_\(unit)", physicalDiameter.map { $0 * factor })
            table.setColumn("major_axis_length_\(unit)", physicalMajor.map { $0 * factor })
            table.setColumn("minor_axis_length_\(unit)", physicalMinor.map { $0 * factor })
        }
        return table
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
