import Testing
import CleaveCore
import CleaveObjects

@Suite struct ObjectMeasurementTests {
    @Test func volumeMeasuresMatchScikitImage() throws {
        // skimage: label(pattern3d(9, 31, 27), connectivity=3); largest region (label 1):
        //   area 2196, centroid (3.976775956284153, 15.005009107468124, 12.906648451730419),
        //   bbox (0, 0, 0, 9, 31, 27), axis_major_length 39.898352999703064, axis_minor_length 11.585315050077146
        let shape = Shape(width: 27, height: 31, depth: 9)
        let labels = ConnectedComponents.label(mask: Patterns.mask3D(width: 27, height: 31, depth: 9), shape: shape, connectivity: .full)
        let table = try ObjectMeasurement.measure(labels)
        #expect(table.labels[0] == 1)
        #expect(try table.column("volume")[0] == 2196)
        #expect(abs(try table.column("centroid_plane")[0] - 3.976775956284153) < 1e-9)
        #expect(abs(try table.column("centroid_row")[0] - 15.005009107468124) < 1e-9)
        #expect(abs(try table.column("centroid_col")[0] - 12.906648451730419) < 1e-9)
        #expect(try table.column("bbox_max_plane")[0] == 9 && table.column("bbox_max_col")[0] == 27)
        #expect(abs(try table.column("major_axis_length")[0] - 39.898352999703064) < 1e-6)
        #expect(abs(try table.column("minor_axis_length")[0] - 11.585315050077146) < 1e-6)
        #expect(!table.has("perimeter"))
    }

    @Test func cubeFacesAndPhysicalVolume() throws {
        // A 4×4×4 cube: 96 voxel faces; with spacing 0.5 µm its volume is 8 µm³.
        var labels = [Int32](repeating: 0, count: 6 * 6 * 6)
        for z in 1...4 { for y in 1...4 { for x in 1...4 { labels[(z * 6 + y) * 6 + x] = 1 } } }
        let image = LabelImage(shape: Shape(width: 6, height: 6, depth: 6), labels: labels, objectCount: 1, spacing: Spacing(0.5))
        let table = try ObjectMeasurement.measure(image)
        #expect(try table.column("voxel_faces")[0] == 96)
        #expect(abs(try table.column("volume_um3")[0] - 8) < 1e-12)
        // spacing scales the Crofton surface by 0.25 exactly
        #expect(abs(try table.column("surface_area_um2")[0] - 0.25 * table.column("surface_area")[0]) < 1e-9)
    }

    @Test(arguments: [(1.0, 1.0), (0.5, 1.5)])
    func ballSurfaceAndSphericity(xySpacing: Double, zSpacing: Double) throws {
        // A ball of radius 20 (physical units) sampled with the given voxel size: the Crofton
        // surface is within 2 % of 4πr² and the sphericity within 3 % of 1 (voxel faces: ~1.5×).
        let radius = 20.0
        let n = Int((2 * radius + 4) / xySpacing), depth = Int((2 * radius + 4) / zSpacing)
        var labels = [Int32](repeating: 0, count: n * n * depth)
        for z in 0..<depth { for y in 0..<n { for x in 0..<n {
            let dx = (Double(x) - Double(n) / 2) * xySpacing, dy = (Double(y) - Double(n) / 2) * xySpacing
            let dz = (Double(z) - Double(depth) / 2) * zSpacing
            if dx * dx + dy * dy + dz * dz <= radius * radius { labels[(z * n + y) * n + x] = 1 }
        }}}
        let spacing = Spacing(x: xySpacing, y: xySpacing, z: zSpacing)
        let table = try ObjectMeasurement.measure(LabelImage(shape: Shape(width: n, height: n, depth: depth), labels: labels,
                                                             objectCount: 1, spacing: spacing))
        let surface = try table.column("surface_area_um2")[0]
        #expect(abs(surface / (4 * Double.pi * radius * radius) - 1) < 0.02, "surface \(surface)")
        #expect(abs(try table.column("sphericity")[0] - 1) < 0.03)
    }

    @Test func discMeasuresAndPhysicalUnits() throws {
        var labels = [Int32](repeating: 0, count: 64 * 64)
        Patterns.disc(&labels, width: 64, cx: 30, cy: 31, radius: 12, label: 1)
        let image = LabelImage(shape: Shape(width: 64, height: 64), labels: labels, objectCount: 1, spacing: Spacing(2, unit: "µm"))
        let table = try ObjectMeasurement.measure(image)
        // y, x = np.mgrid[0:64, 0:64]; r = regionprops((((x-30)**2 + (y-31)**2) <= 144).astype(int))[0]
        // → area 441, perimeter 77.25483399593904, solidity 0.9483870967741935,
        //   feret_diameter_max 25.317977802344327, eccentricity 0
        #expect(try table.column("area")[0] == 441)
        #expect(abs(try table.column("perimeter")[0] - 77.25483399593904) < 1e-9)
        #expect(abs(try table.column("area_um2")[0] - 1764) < 1e-9)
        #expect(abs(try table.column("centroid_row")[0] - 31) < 1e-12)
        #expect(abs(try table.column("centroid_col")[0] - 30) < 1e-12)
        #expect(abs(try table.column("solidity")[0] - 0.9483870967741935) < 1e-12)
        #expect(abs(try table.column("feret_diameter_max")[0] - 25.317977802344327) < 1e-9)
        #expect(abs(try table.column("equivalent_diameter_um")[0] - 2 * (4 * 441 / Double.pi).squareRoot()) < 1e-9)
        #expect(try table.column("eccentricity")[0] < 1e-9)
        #expect(try table.column("touches_border")[0] == 0)
        let circularity = try table.column("circularity")[0]
        #expect(circularity > 0.9 && circularity < 1.0)
    }

    @Test func zoningIndexSeparatesZonedFromUnzonedCrystals() throws {
        // Six crystals: three with a bright core (core 180, rim 120), three uniform (150), all
        // with Gaussian noise σ = 12. The zoning index must separate them clearly.
        let width = 240, height = 80
        var labels = [Int32](repeating: 0, count: width * height)
        var grey = [Float](repeating: 40, count: width * height)
        var rng = SeededGenerator(seed: 42)
        for k in 0..<6 {
            let cx = 20.0 + Double(k) * 40, cy = 40.0, radius = 16.0 + Double(k % 3)
            Patterns.disc(&labels, width: width, cx: cx, cy: cy, radius: radius, label: Int32(k + 1))
            for y in 0..<height { for x in 0..<width where labels[y * width + x] == Int32(k + 1) {
                let r = ((Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)).squareRoot()
                let zoned = k < 3
                let base = zoned ? (r < radius * 0.55 ? 180.0 : 120.0) : 150.0
                grey[y * width + x] = Float(base + 12 * rng.nextGaussian())
            }}
        }
        let image = LabelImage(shape: Shape(width: width, height: height), labels: labels, objectCount: 6)
        let table = try ObjectMeasurement.measure(image, intensity: Image(shape: Shape(width: width, height: height), pixels: grey))
        let zoning = try table.column("zoning_index")
        for k in 0..<3 { #expect(zoning[k] > 1.2, "zoned crystal \(k + 1): \(zoning[k])") }
        for k in 3..<6 { #expect(abs(zoning[k]) < 0.4, "unzoned crystal \(k + 1): \(zoning[k])") }
        let rim = try table.column("rim_mean"), core = try table.column("core_mean")
        #expect(abs(rim[0] - 120) < 8 && abs(core[0] - 180) < 8)
        // intensity statistics: mean over a uniform crystal ≈ 150, p50 ≈ 150
        #expect(abs(try table.column("mean_intensity")[3] - 150) < 2)
        #expect(abs(try table.column("intensity_p50")[4] - 150) < 3)
    }

    @Test func intensityStatisticsMatchNumpy() throws {
        // One 2×3 object with values 1…6: numpy mean 3.5, std 1.707825127659933,
        // percentile 10 → 1.5, 50 → 3.5, 90 → 5.5
        let labels = LabelImage(shape: Shape(width: 4, height: 2), labels: [1, 1, 1, 0, 1, 1, 1, 0], objectCount: 1)
        let grey = Image(shape: Shape(width: 4, height: 2), pixels: [Float]([6, 2, 3, 9, 4, 5, 1, 9]))
        let table = try ObjectMeasurement.measure(labels, intensity: grey)
        #expect(try table.column("mean_intensity")[0] == 3.5)
        #expect(abs(try table.column("std_intensity")[0] - 1.707825127659933) < 1e-12)
        #expect(try table.column("min_intensity")[0] == 1 && table.column("max_intensity")[0] == 6)
        #expect(try table.column("intensity_p10")[0] == 1.5)
        #expect(try table.column("intensity_p90")[0] == 5.5)
    }

    @Test func mismatchedIntensityIsAClearError() {
        let labels = LabelImage(shape: Shape(width: 4, height: 2), labels: [Int32](repeating: 1, count: 8), objectCount: 1)
        let grey = Image<Float>(shape: Shape(width: 5, height: 2))
        #expect(throws: ObjectsError.self) { try ObjectMeasurement.measure(labels, intensity: grey) }
    }

    @Test func oneObjectFillingTheImage() throws {
        let labels = LabelImage(shape: Shape(width: 20, height: 10), labels: [Int32](repeating: 1, count: 200), objectCount: 1)
        let table = try ObjectMeasurement.measure(labels)
        #expect(try table.column("area")[0] == 200)
        #expect(try table.column("solidity")[0] == 1)
        #expect(try table.column("touches_border")[0] == 1)
        // skimage.measure.perimeter(np.ones((10, 20))) → 56.0
        #expect(abs(try table.column("perimeter")[0] - 56) < 1e-12)
    }
}

@Suite struct FeretAndDeterminismTests {
    @Test func rectangleAndDiagonalBand() throws {
        // m = zeros((8, 14)); m[2:6, 2:12] = 1 → feret_diameter_max 10.44030650891055 (√109),
        //   area_convex 40, perimeter 24.0. Min caliper of the same contour points: 4.
        var rect = [Int32](repeating: 0, count: 8 * 14)
        for y in 2..<6 { for x in 2..<12 { rect[y * 14 + x] = 1 } }
        var t = try ObjectMeasurement.measure(LabelImage(shape: Shape(width: 14, height: 8), labels: rect, objectCount: 1))
        #expect(abs(try t.column("feret_diameter_max")[0] - 10.44030650891055) < 1e-12)
        #expect(try t.column("feret_diameter_min")[0] == 4)
        #expect(try t.column("area_convex")[0] == 40 && t.column("perimeter")[0] == 24)
        // m = zeros((20, 20)); for i in range(12): m[3+i, 3+i] = m[3+i, 4+i] = 1
        //   → feret 17.029386365926403, area_convex 24, perimeter 24.414213562373096,
        //     solidity 1.0, orientation 0.7906427262950585, eccentricity 0.9974016813176206
        var band = [Int32](repeating: 0, count: 400)
        for i in 0..<12 { band[(3 + i) * 20 + 3 + i] = 1; band[(3 + i) * 20 + 4 + i] = 1 }
        t = try ObjectMeasurement.measure(LabelImage(shape: Shape(width: 20, height: 20), labels: band, objectCount: 1))
        #expect(abs(try t.column("feret_diameter_max")[0] - 17.029386365926403) < 1e-12)
        #expect(try t.column("area_convex")[0] == 24 && t.column("solidity")[0] == 1)
        #expect(abs(try t.column("perimeter")[0] - 24.414213562373096) < 1e-12)
        #expect(abs(try t.column("orientation")[0] - 0.7906427262950585) < 1e-12)
        #expect(abs(try t.column("eccentricity")[0] - 0.9974016813176206) < 1e-12)
        // the band is about √2 wide across its length
        let narrow = try t.column("feret_diameter_min")[0]
        #expect(narrow > 1.4 && narrow < 2.2)
    }

    @Test func resultsDoNotDependOnThreadCount() throws {
        let shape = Shape(width: 203, height: 150)
        let mask = Patterns.mask2D(width: 203, height: 150)
        let saved = Parallel.threadCount
        Parallel.threadCount = 1
        let serialLabels = ConnectedComponents.label(mask: mask, shape: shape)
        let serial = try ObjectMeasurement.measure(serialLabels)
        Parallel.threadCount = max(2, saved)
        let parallelLabels = ConnectedComponents.label(mask: mask, shape: shape)
        let parallel = try ObjectMeasurement.measure(parallelLabels)
        Parallel.threadCount = saved
        #expect(serialLabels == parallelLabels)
        for name in serial.columnNames {
            let a = try serial.column(name), b = try parallel.column(name)
            #expect(a.elementsEqual(b) { $0 == $1 || ($0.isNaN && $1.isNaN) }, "\(name)")
        }
    }
}

@Suite struct IntensityChannelsTests {
    @Test func everyChannelGetsItsOwnColumns() throws {
        // Object 1 = left 2×2 block, object 2 = right 2×2 block; channel 2 = 10 × channel 1.
        let labels = LabelImage(shape: Shape(width: 4, height: 2), labels: [1, 1, 2, 2, 1, 1, 2, 2], objectCount: 2)
        let first: [Float] = [1, 2, 5, 6, 3, 4, 7, 8]
        let grey = Image(shape: Shape(width: 4, height: 2, channels: 2), pixels: first + first.map { $0 * 10 })
        let table = try ObjectMeasurement.measure(labels, intensity: grey, percentiles: [50])
        #expect(try table.column("mean_intensity") == [2.5, 6.5])
        #expect(try table.column("mean_intensity_c2") == [25, 65])
        #expect(try table.column("max_intensity_c2") == [40, 80])
        #expect(try table.column("intensity_p50_c2") == [25, 65])
        #expect(!table.has("intensity_p10"))
    }
}
