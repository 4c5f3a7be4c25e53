import ArgumentParser
import CleaveCore
import CleaveFormats
import CleavePipelines
import Foundation

struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Write a synthetic TEM mapping tile set with ground truth (for demos and tests).",
        discussion: """
        The tiles look like a low-magnification TEM screening of a grid: 16-bit, noisy carbon film \
        with slow thickness variations, an illumination fall-off that differs from tile to tile \
        (so seams show), overlapping fields of view, and dark particles of three kinds — round \
        flakes (aggregates of grains), thin rods/fibres and faint blobs. With --kind gridbars \
        (the default) opaque grid bars cross the mosaic and some tiles are partly black.

        Files written to --out:
          Tile_RRR-CCC.tif                 16-bit tiles (1-based row and column, like microscope exports)
          truth/Tile_RRR-CCC_particles.tif 8-bit particle mask (255 = particle)
          truth/Tile_RRR-CCC_gridbars.tif  8-bit grid-bar mask
          truth/truth.json                 options, tile positions, particle list (shape, centre, size)

        The same --seed always gives the same pixels.

        With --montage the tiles become a SerialEM montage instead (default --kind film):
          montage.mrc          16-bit MRC stack, one section per piece
          montage.mrc.mdoc     [ZValue = n]: PieceCoordinates, StagePosition (µm)…
          truth/particles.csv  stage_x,stage_y,radius_um of every particle
        The montage centre lies at a seeded stage position; stage X/Y follow image x and the \
        MRC's stored row order (see cleave help locate).
          cleave sample --montage --out m --seed 2
          cleave locate m/montage.mrc --out m-result

        Example:
          cleave sample --out demo --seed 3
          cleave locate demo --out demo-result --exclude-dark

        With --kind fibsem: a FIB-SEM-like volume (--width × --height × --depth slices) of four \
        phases (1 pore, 2 matrix, 3 grain, 4 bright inclusion) seen by two detectors with different \
        contrast, with curtaining stripes (per-column offsets growing towards the bottom), shading \
        and noise (--curtaining, --shading, --noise scale them). Writes detector1.tif and \
        detector2.tif (16-bit stacks), train-labels.tif (the truth on three slices, 0 elsewhere), \
        classes.csv, truth/labels.tif and truth/truth.json.
          cleave sample --kind fibsem --out fib --seed 2
          cleave train --method unet --image fib/detector1.tif,fib/detector2.tif \
                       --labels fib/train-labels.tif --classes fib/classes.csv --slices 3 --model fib.json

        With --kind fibsem and an --out ending in .zarr (e.g. vol.ome.zarr), a volume of any size \
        (--size ZxYxX) is written straight to OME-Zarr, chunk by chunk with bounded memory: the \
        detectors as channels (--channels 1 or 2) of a 16-bit image, 5 × 5 × 10 nm voxels, and the \
        truth (1 pore, 2 matrix, 3 grain, 4 inclusion) as the label image labels/truth, both with \
        pyramids. Every voxel depends only on the seed and its position, so the same seed gives \
        the same volume whatever the chunk size and thread count. --ngff, --codec, --chunk and \
        --levels choose the storage as for cleave convert.
          cleave sample --kind fibsem --size 256x2048x2048 --out fib.ome.zarr --seed 2
        """)

    @Option(name: .long, help: "Output folder (created if needed).")
    var out: String

    @Option(name: .long, help: "Random seed; the same seed gives the same tile set.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Tile rows of the mosaic.")
    var rows: Int = 2

    @Option(name: .long, help: "Tile columns of the mosaic.")
    var columns: Int = 3

    @Option(name: .customLong("tile-size"), help: "Tile width and height in pixels (64…8192).")
    var tileSize: Int = 1024

    @Option(name: .long, help: "Pixels shared by neighbouring tiles.")
    var overlap: Int = 48

    @Option(name: .long, help: "What to make: film (TEM tiles, particles on film), gridbars (plus black grid bars and partly black tiles) or fibsem (a two-detector FIB-SEM volume). Default: gridbars; film with --montage.")
    var kind: SampleKind?

    @Flag(name: .long, help: "Write the tiles as a SerialEM montage: montage.mrc + montage.mrc.mdoc + truth/particles.csv (stage coordinates).")
    var montage = false

    @Option(name: .long, help: "fibsem: slice width in pixels.")
    var width = 256

    @Option(name: .long, help: "fibsem: slice height in pixels.")
    var height = 256

    @Option(name: .long, help: "fibsem: number of slices.")
    var depth = 24

    @Option(name: .long, help: ArgumentHelp("fibsem to OME-Zarr: volume size in voxels, slices × rows × columns (e.g. 128x1024x1024).", valueName: "ZxYxX"))
    var size: String?

    @Option(name: .long, help: "fibsem to OME-Zarr: detectors to write, 1 (in-lens) or 2 (in-lens and back-scatter).")
    var channels = 2

    @OptionGroup(title: "OME-Zarr output (fibsem with --out NAME.ome.zarr)") var zarr: ZarrOptions

    @Option(name: .long, help: "fibsem: curtaining strength (0 = none, 1 = default).")
    var curtaining = 1.0

    @Option(name: .long, help: "fibsem: shading strength (0 = none, 1 = default).")
    var shading = 1.0

    @Option(name: .long, help: "fibsem: noise strength (0 = none, 1 = default).")
    var noise = 1.0

    @Option(name: .long, help: "Mean number of particles per tile.")
    var particles: Double = 10

    @Option(name: .long, help: "Electrons per pixel through bare film (lower = noisier).")
    var dose: Double = 250

    @Option(name: .customLong("bar-coverage"), help: ArgumentHelp("gridbars: fraction of the field covered by a square mesh of bars, 0.05…0.9 (default: the classic slanted bars along two sides).", valueName: "F"))
    var barCoverage: Double?

    @Option(name: .customLong("bar-angle"), help: ArgumentHelp("gridbars with --bar-coverage: rotation of the mesh in degrees.", valueName: "DEG"))
    var barAngle: Double = 0

    @Option(name: .customLong("bar-pitch"), help: ArgumentHelp("gridbars with --bar-coverage: distance between bars as a fraction of the mosaic's shorter side, 0.1…2.", valueName: "F"))
    var barPitch: Double = 0.5

    @Option(name: .customLong("exposure-spread"), help: ArgumentHelp("Tile-to-tile exposure differences: tile doses × gains evenly spaced over 1−S…1+S (0…0.9).", valueName: "S"))
    var exposureSpread: Double = 0

    @Option(name: .customLong("pixel-size"), help: "Pixel size in nm, stored in the TIFFs and the truth.")
    var pixelSize: Double = 5

    func validate() throws {
        if montage && kind == .fibsem { throw ValidationError("--montage makes a TEM montage; it does not combine with --kind fibsem") }
        let toZarr = ImageFormat.fromExtension(out) == .omeZarr
        if size != nil && !(kind == .fibsem && toZarr) {
            throw ValidationError("--size sets the size of a --kind fibsem volume written to OME-Zarr (--out NAME.ome.zarr)")
        }
        if kind == .fibsem && toZarr { _ = try volumeSize() }
        if kind != .fibsem && toZarr { throw ValidationError("--out \(out): only --kind fibsem writes OME-Zarr") }
    }

    func run() throws {
        let kind = self.kind ?? (montage ? .film : .gridbars)
        if kind == .fibsem && ImageFormat.fromExtension(out) == .omeZarr {
            let (d, h, w) = try volumeSize()
            let volume = try FIBSEMVolume(FIBSEMVolume.Options(width: w, height: h, depth: d, seed: seed, channels: channels,
                                                               curtaining: curtaining, noise: noise, shading: shading))
            let summary = try volume.write(to: out, zarr: zarr.writeOptions, progress: ProgressBar.make())
            let total = Double(summary.phaseCounts.reduce(0, +))
            let fractions = zip(FIBSEMPhantom.classNames, summary.phaseCounts).map { "\($0.0) " + String(format: "%.1f %%", 100 * Double($0.1) / total) }
            print("wrote a \(d)×\(h)×\(w) FIB-SEM volume (\(channels) detector(s), \(summary.levels) level(s), seed \(seed); truth in labels/truth: \(fractions.joined(separator: ", "))) to \(out)")
            return
        }
        if kind == .fibsem {
            let options = FIBSEMPhantom.Options(width: width, height: height, depth: depth, seed: seed, curtaining: curtaining,
                                                noise: noise, shading: shading)
            let phantom = try FIBSEMPhantom.generate(options)
            try phantom.write(to: out)
            print("wrote a \(width)×\(height)×\(depth) FIB-SEM volume (2 detectors, labelled slices \(options.trainingPlanes.map(String.init).joined(separator: ", ")), seed \(seed)) to \(out)")
            return
        }
        let tileKind: SyntheticTileSet.Kind = kind == .film ? .film : .gridbars
        let options = SyntheticTileSet.Options(rows: rows, columns: columns, tileSize: tileSize, overlap: overlap, seed: seed,
                                               kind: tileKind, particlesPerTile: particles, dose: dose, pixelSize: pixelSize,
                                               barCoverage: barCoverage, barAngle: barAngle, barPitch: barPitch,
                                               exposureSpread: exposureSpread)
        let progress = ProgressBar.make()
        let set = try SyntheticTileSet.generate(options, progress: progress)
        if montage {
            try set.writeMontage(to: out, progress: progress)
            let m = set.montage
            print("wrote a SerialEM montage of \(set.tiles.count) pieces (\(tileSize)×\(tileSize), \(tileKind.rawValue), \(set.particles.count) particles, "
                  + String(format: "centre at stage (%.3f, %.3f) µm, %.1f Å/pixel", m.centerX, m.centerY, m.pixelSpacing) + ", seed \(seed)) to \(out)")
            return
        }
        try set.write(to: out, progress: progress)
        var line = "wrote \(set.tiles.count) tiles (\(tileSize)×\(tileSize), \(tileKind.rawValue), \(set.particles.count) particles, seed \(seed)"
        if tileKind == .gridbars { line += String(format: ", bars on %.1f %% of the field", 100 * set.barFraction) }
        if exposureSpread > 0 { line += ", exposure gains " + set.tiles.map { String(format: "%.2f", $0.exposure) }.joined(separator: " ") }
        print(line + ") to \(out)")
    }
}

extension SampleCommand {
    /// (depth, height, width) from --size, or from --depth/--height/--width.
    func volumeSize() throws -> (Int, Int, Int) {
        guard let size else { return (depth, height, width) }
        let parts = size.lowercased().split(separator: "x").map { Int($0) }
        guard parts.count == 3, let d = parts[0], let h = parts[1], let w = parts[2], d >= 1, h >= 1, w >= 1 else {
            throw ValidationError("--size must be ZxYxX (slices × rows × columns, e.g. 128x1024x1024), got '\(size)'")
        }
        return (d, h, w)
    }
}

extension SyntheticTileSet.Kind: ExpressibleByArgument {}

/// What `cleave sample` makes.
enum SampleKind: String, ExpressibleByArgument, CaseIterable {
    case film, gridbars, fibsem
}
