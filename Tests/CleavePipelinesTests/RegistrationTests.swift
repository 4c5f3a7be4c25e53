import Testing
import Foundation
import CleaveCore
import CleaveFilters
import CleaveFormats
import CleavePipelines
import CleaveTestSupport

// Foundation has an AffineTransform too; the registration's is meant here.
typealias AffineTransform = CleavePipelines.AffineTransform

#if DEBUG
private let isReleaseBuild = false
#else
private let isReleaseBuild = true
#endif

/// Synthetic scenes: random elongated grains (ellipses, axes 3 : 1, oriented 30° ± 15°, like a
/// foliated rock) of classes 2…4 on class 1. The automatic search reads rotation from the Fourier
/// magnitude, so the scene must not look the same in every direction (see `registrationAssumptions`).
private func blobClasses(width: Int, height: Int, seed: UInt64, discs: Int = 120) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    var classes = [UInt8](repeating: 1, count: width * height)
    for _ in 0..<discs {
        let cx = generator.nextDouble() * Double(width), cy = generator.nextDouble() * Double(height)
        let r = 6 + generator.nextDouble() * 18
        let angle = (30 + 30 * (generator.nextDouble() - 0.5)) * Double.pi / 180
        let k = UInt8(2 + generator.next(below: 3))
        let (c, s) = (cos(angle), sin(angle))
        for y in max(0, Int(cy - r))..<min(height, Int(cy + r) + 1) {
            for x in max(0, Int(cx - r))..<min(width, Int(cx + r) + 1) {
                let u = (Double(x) - cx) * c + (Double(y) - cy) * s, v = -(Double(x) - cx) * s + (Double(y) - cy) * c
                if u * u / (r * r) + 9 * v * v / (r * r) <= 1 { classes[y * width + x] = k }
            }
        }
    }
    return classes
}

/// A grey image in which each class has its own mean (plus seeded Gaussian noise).
private func greyFromClasses(_ classes: [UInt8], seed: UInt64, noise: Double = 8) -> [Float] {
    let means: [Double] = [0, 40, 150, 100, 230]
    var generator = SeededGenerator(seed: seed)
    return classes.map { Float(means[Int($0)] + noise * generator.nextGaussian()) }
}

/// The class map seen through `truth` (moving pixel → fixed pixel): nearest-neighbour resampling
/// of `fixedClasses` with the same kernel the registration uses for its outputs.
private func movingMap(_ fixedClasses: [UInt8], width: Int, height: Int, truth: AffineTransform, movingWidth: Int, movingHeight: Int) -> RegistrationMovingImage {
    let classes = warpNearest(fixedClasses, width: width, height: height, outputWidth: movingWidth, outputHeight: movingHeight,
                              transform: truth.coefficients)
    return try! RegistrationMovingImage(AnyImage(Image(shape: Shape(width: movingWidth, height: movingHeight), pixels: classes)), path: "moving")
}

private func corners(_ width: Int, _ height: Int) -> [(x: Double, y: Double)] {
    [(0, 0), (Double(width - 1), 0), (0, Double(height - 1)), (Double(width - 1), Double(height - 1))]
}

/// Rotation difference in degrees, modulo 360.
private func angleError(_ a: AffineTransform, _ b: AffineTransform) -> Double {
    let d = abs(a.rotationDegrees - b.rotationDegrees).truncatingRemainder(dividingBy: 360)
    return min(d, 360 - d)
}

@Suite struct FFTTests {
    /// numpy.fft.fft([1, 2, 3, 4, 0, -1, 5, 2]) = [16, 1.70711-1.53553j, -7+5j, 0.29289-5.53553j, 2, 0.29289+5.53553j, -7-5j, 1.70711+1.53553j]
    @Test func matchesNumpyIn1D() {
        var re: [Float] = [1, 2, 3, 4, 0, -1, 5, 2], im = [Float](repeating: 0, count: 8)
        re.withUnsafeMutableBufferPointer { r in
            im.withUnsafeMutableBufferPointer { i in FFT(count: 8).unsafeTransform(real: r.baseAddress!, imaginary: i.baseAddress!, inverse: false) }
        }
        let expected: [(Float, Float)] = [(16, 0), (1.70711, -1.53553), (-7, 5), (0.29289, -5.53553), (2, 0), (0.29289, 5.53553), (-7, -5), (1.70711, 1.53553)]
        for k in 0..<8 {
            #expect(abs(re[k] - expected[k].0) < 1e-4 && abs(im[k] - expected[k].1) < 1e-4, "bin \(k): \(re[k]) + \(im[k])i")
        }
    }

    @Test func roundTripIn2DAndShiftTheorem() {
        var generator = SeededGenerator(seed: 3)
        let w = 32, h = 16
        let original = (0..<(w * h)).map { _ in Float(generator.nextDouble()) }
        var re = original, im = [Float](repeating: 0, count: w * h)
        fft2D(real: &re, imaginary: &im, width: w, height: h)
        #expect(abs(re[0] - original.reduce(0, +)) < 1e-3)  // DC = sum
        fft2D(real: &re, imaginary: &im, width: w, height: h, inverse: true)
        for i in 0..<(w * h) { #expect(abs(re[i] - original[i]) < 1e-5 && abs(im[i]) < 1e-5) }
    }
}

@Suite struct RegistrationTests {
    @Test func affineAlgebra() {
        let t = AffineTransform.similarity(angleRadians: 0.3, scale: 1.7, mirrored: true, translation: (5, -2))
        let identity = t.inverse!.composed(after: t)
        for (u, v) in zip(identity.rows.flatMap { $0 }, AffineTransform.identity.rows.flatMap { $0 }) { #expect(abs(u - v) < 1e-12) }
        #expect(t.isMirrored && abs(t.scale - 1.7) < 1e-12 && abs(t.rotationDegrees - 0.3 * 180 / .pi) < 1e-9)
        #expect(AffineTransform(rows: t.rows) == t)
    }

    /// η² is 1 when the fixed values are a function of the class, and matches a direct computation.
    @Test func correlationRatioDefinition() {
        let classes: [UInt8] = [1, 1, 2, 2, 0, 2, 1, 2, 1]
        let fixedValues: [Float] = [1, 3, 10, 12, 50, 14, 2, 11, 5]
        let m = classMoments(classes: classes, width: 3, height: 3, classCount: 2, stride: 1, fixed: fixedValues, fixedWidth: 3,
                             fixedHeight: 3, transform: AffineTransform.identity.coefficients)
        // class 1: 1, 3, 2, 5 (mean 2.75); class 2: 10, 12, 14, 11 (mean 11.75); all 8: mean 7.25
        func squared(_ x: Double) -> Double { x * x }
        let first: [Double] = [1, 3, 2, 5], second: [Double] = [10, 12, 14, 11]
        let within = first.map { squared($0 - 2.75) }.reduce(0, +) + second.map { squared($0 - 11.75) }.reduce(0, +)
        let total = (first + second).map { squared($0 - 7.25) }.reduce(0, +)
        #expect(abs(m.correlationRatio - (1 - within / total)) < 1e-12)
        #expect(m.overlap == 8)
        let exact = classMoments(classes: classes, width: 3, height: 3, classCount: 2, stride: 1,
                                 fixed: classes.map { Float($0) * 7 }, fixedWidth: 3, fixedHeight: 3,
                                 transform: AffineTransform.identity.coefficients)
        #expect(exact.correlationRatio == 1)
    }

    /// A known similarity applied with the same resampler is recovered, against grey and labels.
    /// (Mirror detection is checked on the real sandstone maps below: on these small synthetic
    /// scenes the log-polar scale peak is not reliable for mirrored maps.)
    @Test(arguments: [(false, "grey"), (false, "labels")])
    func recoversAKnownTransform(mirrored: Bool, fixedKind: String) throws {
        let w = 320, h = 300
        let classes = blobClasses(width: w, height: h, seed: 11)
        let values = fixedKind == "grey" ? greyFromClasses(classes, seed: 5) : classes.map(Float.init)
        let fixed = RegistrationFixedImage(values: values, width: w, height: h)
        let truth = AffineTransform.similarity(angleRadians: 23 * .pi / 180, scale: 1.6, mirrored: mirrored, translation: (40, -30))
        let moving = movingMap(classes, width: w, height: h, truth: truth, movingWidth: 230, movingHeight: 210)
        let result = try register(moving: moving, fixed: fixed)
        let error = result.transform.maximumDistance(to: truth, at: corners(230, 210))
        #expect(error < 1, "corner error \(error) px, found \(result.transform.rows), truth \(truth.rows)")
        #expect(angleError(result.transform, truth) < 0.3)
        #expect(result.transform.isMirrored == mirrored)
        #expect(result.zScore > 8 && result.overlapFraction > 0.9)
    }

    @Test func identityGivesIdentity() throws {
        let w = 256, h = 240
        let classes = blobClasses(width: w, height: h, seed: 2)
        let moving = try RegistrationMovingImage(AnyImage(Image(shape: Shape(width: w, height: h), pixels: classes)), path: "m")
        let fixed = RegistrationFixedImage(values: greyFromClasses(classes, seed: 9), width: w, height: h)
        let result = try register(moving: moving, fixed: fixed)
        let error = result.transform.maximumDistance(to: .identity, at: corners(w, h))
        #expect(error < 0.25, "identity recovered as \(result.transform.rows)")
        #expect(!result.transform.isMirrored)
    }

    /// An unrelated scene is indistinguishable from chance: refused, not a wrong transform.
    @Test func refusesUnrelatedImages() {
        // Random classes in 10 px blocks: no structure in common with the grain scene.
        var generator = SeededGenerator(seed: 21)
        var blocks = [UInt8](repeating: 0, count: 400)
        for b in 0..<400 { blocks[b] = UInt8(1 + generator.next(below: 4)) }
        var classes = [UInt8](repeating: 0, count: 200 * 200)
        for y in 0..<200 { for x in 0..<200 { classes[y * 200 + x] = blocks[(y / 10) * 20 + x / 10] } }
        let moving = try! RegistrationMovingImage(AnyImage(Image(shape: Shape(width: 200, height: 200), pixels: classes)), path: "m")
        let other = blobClasses(width: 300, height: 300, seed: 99)
        let fixed = RegistrationFixedImage(values: greyFromClasses(other, seed: 3), width: 300, height: 300)
        #expect {
            try register(moving: moving, fixed: fixed)
        } throws: { error in
            guard case .indistinguishableFromChance = error as? RegistrationError else { return false }
            return true
        }
    }

    @Test func landmarksFitAndRefusals() throws {
        let truth = AffineTransform.similarity(angleRadians: -0.4, scale: 2, mirrored: true, translation: (100, 50))
        let points: [(Double, Double)] = [(10, 20), (200, 30), (50, 180), (150, 150)]
        var lines: [String] = ["moving_x,moving_y,fixed_x,fixed_y"]
        for p in points {
            let q = truth.apply(p.0, p.1)
            lines.append("\(p.0),\(p.1),\(q.x),\(q.y)")
        }
        let text = lines.joined(separator: "\n")
        let landmarks = try RegistrationLandmarks(text: text, path: "points.csv")
        for model in RegistrationModel.allCases {
            let fit = try landmarks.fit(model: model == .rigid ? .similarity : model, mirror: .auto)
            #expect(fit.maximumDistance(to: truth, at: corners(200, 200)) < 1e-6)
            #expect(landmarks.residual(of: fit) < 1e-6)
        }
        let two = try RegistrationLandmarks(text: "1,2,3,4\n5,6,7,9\n", path: "two.csv")
        #expect(throws: RegistrationError.tooFewLandmarks(path: "two.csv", count: 2, needed: 3, model: "similarity")) {
            try two.fit(model: .similarity, mirror: .auto)
        }
        let line = try RegistrationLandmarks(text: "0,0,1,1\n1,1,2,2\n2,2,3,3\n3,3,4,4\n", path: "line.csv")
        #expect(throws: RegistrationError.self) { try line.fit(model: .affine, mirror: .auto) }
        #expect(throws: RegistrationError.self) { try RegistrationLandmarks(text: "1,2,3\n", path: "bad.csv") }
    }

    /// Landmarks that put the map beside the fixed image: a clear no-overlap error.
    @Test func landmarksOutsideTheFixedImageAreRefused() throws {
        let classes = blobClasses(width: 100, height: 100, seed: 8)
        let moving = try RegistrationMovingImage(AnyImage(Image(shape: Shape(width: 100, height: 100), pixels: classes)), path: "m")
        let fixed = RegistrationFixedImage(values: greyFromClasses(classes, seed: 8), width: 100, height: 100)
        let landmarks = try RegistrationLandmarks(text: "0,0,500,500\n99,0,599,500\n0,99,500,599\n", path: "far.csv")
        #expect {
            try register(moving: moving, fixed: fixed, landmarks: landmarks)
        } throws: { error in
            guard case .noOverlap = error as? RegistrationError else { return false }
            return true
        }
    }
}

@Suite struct LabelTransferTests {
    /// Two classes split at column 10 (border pixels: columns 9 and 10): radius 2 also drops the
    /// two columns on either side; no-data pixels stay 0 and their edge is not a class border.
    @Test func erosionDropsAStripAroundClassBorders() {
        let w = 20, h = 6
        var classes = (0..<(w * h)).map { UInt8($0 % w < 10 ? 1 : 2) }
        for x in 0..<w { classes[x] = 0 }  // top row: no data
        let labels = LabelTransfer.trainingLabels(classes: classes, labels: [3, 7], width: w, height: h, radius: 2)
        for y in 1..<h {
            let row = (0..<w).map { labels[y * w + $0] }
            #expect(row == [3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0, 7, 7, 7, 7, 7, 7, 7], "row \(y): \(row)")
        }
        #expect((0..<w).allSatisfy { labels[$0] == 0 })
        let kept = LabelTransfer.trainingLabels(classes: classes, labels: [3, 7], width: w, height: h, radius: 0)
        #expect(kept[w + 9] == 3 && kept[w + 10] == 7)
        #expect(LabelTransfer.erosionRadius(uncertainty: 0.5, scale: 2, factor: 1) == 2)
        #expect(LabelTransfer.erosionRadius(uncertainty: 0.5, scale: 2, factor: 0) == 0)
        #expect(LabelTransfer.borderRadius(uncertainty: 0.5, factor: 1) == 0)
        #expect(LabelTransfer.borderRadius(uncertainty: 2.4, factor: 1) == 2)
    }

    /// The opening per class (radius 1: a 3 × 3 square must fit): a one-pixel bump on a border and
    /// a one-pixel-wide line lose their pixels; the wide regions keep every pixel, their edges
    /// included, on both sides of the border; no-data counts as every class, and the image's edge
    /// does not trim.
    @Test func openingDropsWhatIsNarrowerThanTheSquareAndKeepsEdges() {
        let w = 14, h = 10
        var classes = (0..<(w * h)).map { UInt8($0 % w < 6 ? 1 : 2) }
        classes[4 * w + 6] = 1                        // a bump of class 1 into class 2
        for y in 0..<h { classes[y * w + 11] = 3 }    // a one-pixel line of class 3
        for x in 0..<3 { classes[x] = 0 }             // no data in the top-left corner
        let kept = LabelTransfer.openedClasses(classes: classes, classCount: 3, width: w, height: h, radius: 1)
        #expect(!kept[4 * w + 6], "the bump")
        #expect((0..<h).allSatisfy { !kept[$0 * w + 11] }, "the line")
        #expect(!kept[0] && !kept[1] && !kept[2], "no data")
        for y in 0..<h {
            // Class 1 (columns 0-5, the no-data corner counting as class 1) and class 2 (columns
            // 6-10, five wide) keep every pixel, both edges of their border and the pixels round
            // the bump included.
            for x in 0..<11 where classes[y * w + x] != 0 && !(x == 6 && y == 4) {
                #expect(kept[y * w + x], "(\(x), \(y))")
            }
            // Columns 12-13 are two pixels wide against the image's edge, which extends them.
            #expect(kept[y * w + 12] && kept[y * w + 13], "row \(y) beside the edge")
        }
        #expect(LabelTransfer.openedClasses(classes: classes, classCount: 3, width: w, height: h, radius: 0)
                == classes.map { $0 != 0 })
    }
}

/// The real-data check: a synthetic "EDS map" of sandstone slice 0000 (labels downsampled
/// ×2, rotated 17°, shifted, mirrored in one case, 10 % of the border pixels relabelled, a corner
/// cropped) registered to the labels of 0000 and to its grey image: within 1 px and 0.5°.
/// bench/register/make_eds_map.py makes the same kind of map for the CLI.
@Suite struct RegistrationSandstoneTests {
    static func edsMap(labels: [UInt8], width: Int, height: Int, mirrored: Bool, shift: (Double, Double), seed: UInt64)
        -> (moving: RegistrationMovingImage, truth: AffineTransform) {
        let linear = AffineTransform.similarity(angleRadians: 17 * .pi / 180, scale: 2, mirrored: mirrored, translation: (0, 0))
        let inverse = linear.inverse!
        let mc = [(0.0, 0.0), (Double(width - 1), 0), (0, Double(height - 1)), (Double(width - 1), Double(height - 1))].map { inverse.apply($0.0, $0.1) }
        let mw = Int((mc.map(\.x).max()! - mc.map(\.x).min()!).rounded(.up)) + 24
        let mh = Int((mc.map(\.y).max()! - mc.map(\.y).min()!).rounded(.up)) + 24
        var truth = linear
        let center = linear.apply(Double(mw - 1) / 2 + shift.0, Double(mh - 1) / 2 + shift.1)
        truth.tx = Double(width - 1) / 2 - center.x; truth.ty = Double(height - 1) / 2 - center.y
        // Majority of 4 sub-samples per moving pixel; no data where 2 or more fall outside.
        var classes = [UInt8](repeating: 0, count: mw * mh)
        for v in 0..<mh {
            for u in 0..<mw {
                var votes = [Int](repeating: 0, count: 256), outside = 0
                for (du, dv) in [(-0.25, -0.25), (0.25, -0.25), (-0.25, 0.25), (0.25, 0.25)] {
                    let p = truth.apply(Double(u) + du, Double(v) + dv)
                    let x = Int(p.x.rounded()), y = Int(p.y.rounded())
                    if x >= 0 && y >= 0 && x < width && y < height { votes[Int(labels[y * width + x])] += 1 } else { outside += 1 }
                }
                if outside < 2 { classes[v * mw + u] = UInt8(votes.indices.max { votes[$0] < votes[$1] || (votes[$0] == votes[$1] && $0 > $1) }!) }
            }
        }
        // 10 % of the border pixels take a neighbouring class.
        var generator = SeededGenerator(seed: seed)
        let original = classes
        for v in 1..<(mh - 1) {
            for u in 1..<(mw - 1) {
                let i = v * mw + u, k = original[i]
                guard k != 0 else { continue }
                let others = [original[i - 1], original[i + 1], original[i - mw], original[i + mw]].filter { $0 != 0 && $0 != k }
                if !others.isEmpty && generator.nextDouble() < 0.1 { classes[i] = others[generator.next(below: others.count)] }
            }
        }
        // Crop a corner of the sample.
        let valid = classes.indices.filter { classes[$0] != 0 }
        let x0 = valid.map { $0 % mw }.min()!, y0 = valid.map { $0 / mw }.min()!
        let span = 0.3 * Double(valid.map { $0 % mw }.max()! - x0 + valid.map { $0 / mw }.max()! - y0)
        for v in 0..<mh { for u in 0..<mw where Double(u - x0 + v - y0) < span { classes[v * mw + u] = 0 } }
        let moving = try! RegistrationMovingImage(AnyImage(Image(shape: Shape(width: mw, height: mh), pixels: classes)), path: "eds")
        return (moving, truth)
    }

    @Test(.enabled(if: TestData.isAvailable && isReleaseBuild, "needs ../shared/data (sandstone-xrm) and a release build"),
          arguments: [(false, "labels"), (true, "labels"), (false, "images"), (true, "images")])
    func syntheticEDSMapIsRecovered(mirrored: Bool, fixedKind: String) throws {
        let labels = try ImageFile.read(TestData.path("sandstone-xrm/labels/Sandstone_Versa0000.tif")).converted(to: UInt8.self)
        let (moving, truth) = Self.edsMap(labels: labels.pixels, width: labels.width, height: labels.height, mirrored: mirrored,
                                          shift: mirrored ? (-9, 15) : (12, -7), seed: mirrored ? 2 : 1)
        let fixed = try RegistrationFixedImage(try ImageFile.read(TestData.path("sandstone-xrm/\(fixedKind)/Sandstone_Versa0000.tif")), path: fixedKind)
        let result = try register(moving: moving, fixed: fixed)
        // Error over the mapped sample (the corners of the moving image lie outside it).
        let inside = [(0.2, 0.2), (0.8, 0.2), (0.2, 0.8), (0.8, 0.8)].map { (x: $0.0 * Double(moving.width - 1), y: $0.1 * Double(moving.height - 1)) }
        let error = result.transform.maximumDistance(to: truth, at: inside)
        #expect(error < 1, "\(fixedKind), mirrored \(mirrored): error \(error) px; found \(result.transform.rows), truth \(truth.rows)")
        #expect(angleError(result.transform, truth) < 0.5)
        #expect(result.transform.isMirrored == mirrored)
    }

    /// --mirror yes finds the mirrored map; --mirror no cannot match it: refused, or not mirrored.
    @Test(.enabled(if: TestData.isAvailable && isReleaseBuild, "needs ../shared/data (sandstone-xrm) and a release build"))
    func mirrorOptionIsObeyed() throws {
        let labels = try ImageFile.read(TestData.path("sandstone-xrm/labels/Sandstone_Versa0000.tif")).converted(to: UInt8.self)
        let (moving, truth) = Self.edsMap(labels: labels.pixels, width: labels.width, height: labels.height, mirrored: true,
                                          shift: (-9, 15), seed: 2)
        let fixed = try RegistrationFixedImage(AnyImage(labels), path: "labels")
        var options = RegistrationOptions()
        options.mirror = .yes
        let found = try register(moving: moving, fixed: fixed, options: options)
        #expect(found.transform.isMirrored && angleError(found.transform, truth) < 0.5)
        options.mirror = .no
        if let result = try? register(moving: moving, fixed: fixed, options: options) { #expect(!result.transform.isMirrored) }
    }
}
