import ArgumentParser
import CleaveCore
import CleaveFormats
import CleavePipelines
import Foundation

/// `cleave register MOVING FIXED --out DIR`: align a 2D map or image to a plane.
struct RegisterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Register a 2D class map or image (e.g. an EDS mineral map) to a plane of a volume or another image.",
        discussion: """
        Finds the transform that maps MOVING pixels onto FIXED pixels (x = column, y = row): \
        rotation, scale and translation (--model similarity, the default), rotation and translation \
        only (rigid) or any affine map, with a left-right mirror when needed (--mirror auto tries \
        both). MOVING may be a class map (integer labels, 0 = no data; e.g. a mineral map at another \
        resolution and orientation) or a grey image; FIXED is a grey image (another modality is fine) \
        or a label image; for a stack, --plane picks the plane.

        How: a coarse global search on edge images (class borders vs grey gradients): the Fourier \
        magnitude does not depend on translation, and in log-polar coordinates a rotation or scaling \
        is a shift, so phase correlation finds rotation and scale (both 180° turns, the two strongest \
        peaks, plain and mirrored); phase correlation then finds the translation. The best candidate \
        is refined at increasing resolution by maximising the correlation ratio η² = 1 − (grey \
        variance within the moving classes) / (total grey variance) over the overlap: 1 when each \
        class has one grey value, ≈ 0 for unrelated images. With --landmarks the point pairs replace \
        the search (refined afterwards unless --no-refine).

        Refusals (an error, nothing written): the best match overlaps less than --min-overlap of \
        the moving image's pixels, or its η² is fewer than --min-z standard deviations above the \
        η² of random placements (same scale, random angle and position) -- the images probably do \
        not show the same region; or a landmark file with too few pairs (rigid/similarity 3, \
        affine 4: one more than the minimum, so the fit has a residual).

        Outputs in --out: transform.json ("affine": [[a, b, tx], [c, d, ty]] with fixed_x = a·x + \
        b·y + tx, fixed_y = c·x + d·y + ty; its inverse; rotation, scale, mirrored; quality: η², \
        chance level, z-score, overlap, uncertainty in pixels; the assumptions), overlay.png (the \
        moving classes' outlines over the fixed image), checkerboard.png (alternating blocks of the \
        fixed image and the registered map) and registered.tif (MOVING resampled onto FIXED's grid, \
        original labels, 0 outside; opens in Fiji/napari over FIXED).

        Examples:
          cleave register eds-map.tif volume.tif --plane 0 --out reg
          cleave register map.tif slice.tif --model affine --mirror no --out reg
          cleave register map.tif slice.tif --landmarks points.csv --out reg
        (points.csv: moving_x,moving_y,fixed_x,fixed_y per line, header optional)
        """)

    @Argument(help: "Moving image: a class map (integer labels, 0 = no data) or a grey image (TIFF, PNG or MRC, 2D).")
    var moving: String

    @Argument(help: "Fixed image: grey or labels (TIFF, PNG or MRC; a stack with --plane).")
    var fixed: String

    @Option(help: ArgumentHelp("Output folder (created if missing).", valueName: "dir"))
    var out: String

    @OptionGroup var registration: RegistrationFlags

    @Option(help: ArgumentHelp("Seed of the random placements of the chance test.", valueName: "n"))
    var seed: UInt64 = 1

    @Flag(help: "Print the report as JSON instead of text.")
    var json = false

    func run() throws {
        let started = Date()
        let options = registration.options(seed: seed)
        let plane = registration.plane, landmarks = registration.landmarks
        let movingImage = try RegistrationMovingImage(try ImageFile.read(moving), path: moving)
        let fixedImage = try RegistrationFixedImage(try ImageFile.read(fixed), path: fixed, plane: plane)
        let points = try landmarks.map { try RegistrationLandmarks(path: $0) }
        let result = try register(moving: movingImage, fixed: fixedImage, options: options, landmarks: points, progress: ProgressBar.make())
        let report = try writeRegistrationOutputs(result, moving: movingImage, fixed: fixedImage, movingPath: moving, fixedPath: fixed,
                                                  fixedPlane: plane, landmarksPath: landmarks, minimumZScore: options.minimumZScore, directory: out)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        let t = result.transform
        print("cleave register: \(moving) -> \(fixed) (\(result.method), \(result.model.rawValue)\(t.isMirrored ? ", mirrored" : ""))")
        print(String(format: "  affine      [[%.5f, %.5f, %.2f], [%.5f, %.5f, %.2f]]", t.a, t.b, t.tx, t.c, t.d, t.ty))
        print(String(format: "  rotation    %.2f°   scale %.4f   uncertainty ≈ %.1f px", t.rotationDegrees, t.scale, result.uncertainty))
        print(String(format: "  quality     η² %.3f (full resolution); %.3f vs random placements %.3f ± %.3f: z = %.1f (need %.1f)",
                     result.correlationRatio, result.testedRatio, result.chanceMean, result.chanceDeviation,
                     result.zScore.isFinite ? result.zScore : 1e9, options.minimumZScore))
        print(String(format: "  overlap     %.1f %% of the moving image's pixels land inside the fixed image", 100 * result.overlapFraction))
        if let residual = result.landmarkResidual, let count = result.landmarkCount {
            print(String(format: "  landmarks   %d pairs, RMS residual %.2f px", count, residual))
        }
        print("  assumptions:")
        for line in registrationAssumptions { print("    - \(line)") }
        print("  wrote \(out)/{\(report.files.joined(separator: ","))} in " + String(format: "%.2f s", Date().timeIntervalSince(started)))
    }
}
