import ArgumentParser
import CleaveCore
import CleavePipelines

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

        Example:
          cleave sample --out demo --seed 3
          cleave locate demo --out demo-result --exclude-dark
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

    @Option(name: .long, help: "What the set shows: film (particles on film) or gridbars (plus black grid bars and partly black tiles).")
    var kind: SyntheticTileSet.Kind = .gridbars

    @Option(name: .long, help: "Mean number of particles per tile.")
    var particles: Double = 10

    @Option(name: .long, help: "Electrons per pixel through bare film (lower = noisier).")
    var dose: Double = 250

    @Option(name: .customLong("pixel-size"), help: "Pixel size in nm, stored in the TIFFs and the truth.")
    var pixelSize: Double = 5

    func run() throws {
        let options = SyntheticTileSet.Options(rows: rows, columns: columns, tileSize: tileSize, overlap: overlap, seed: seed,
                                               kind: kind, particlesPerTile: particles, dose: dose, pixelSize: pixelSize)
        let progress = ProgressBar.make()
        let set = try SyntheticTileSet.generate(options, progress: progress)
        try set.write(to: out, progress: progress)
        print("wrote \(set.tiles.count) tiles (\(tileSize)×\(tileSize), \(kind.rawValue), \(set.particles.count) particles, seed \(seed)) to \(out)")
    }
}

extension SyntheticTileSet.Kind: ExpressibleByArgument {}
