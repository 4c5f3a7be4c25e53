import CleaveCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A seeded, TEM-like low-magnification mapping tile set with ground truth.
///
/// The mosaic is simulated as one large field and cut into overlapping tiles, like a microscope
/// stepping the stage:
///
/// 1. **Film**: carbon-film absorbance with low-frequency thickness variations (a few broad
///    Gaussian bumps and waves) and fine granular texture.
/// 2. **Particles** (absorbance added to the film): round flakes made of clustered grains,
///    rods/fibres (thin, long, straight), and faint blobs (weak contrast, like polymers).
/// 3. **Grid bars** (kind `gridbars`): the copper grid's bars are opaque — a slanted bar along
///    one side of the mosaic and one along the bottom, so some tiles are partly or wholly black;
///    or, with ``Options/barCoverage``, a square mesh at ``Options/barAngle`` covering that
///    fraction of the field.
/// 4. **Imaging** per tile: transmitted fraction `exp(−absorbance)` × an illumination that falls
///    off from an off-centre beam centre (different for every tile, which makes the tile seams
///    visible) and an exposure gain (``Options/exposureSpread``), electron counts drawn from a Poisson distribution (`dose` electrons per pixel on
///    bare film), times a detector gain plus offset and read noise, clamped to 16 bits.
///
/// Ground truth: a particle mask (absorbance from particles ≥ ``particleMaskThreshold``) and a
/// grid-bar mask per tile, and the list of particles with their kind, centre and size.
public struct SyntheticTileSet: Sendable {
    /// What the tile set shows.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Particles on film only.
        case film
        /// Particles on film plus black grid bars and partly black tiles.
        case gridbars
    }

    /// Generation parameters.
    public struct Options: Sendable, Codable, Equatable {
        /// Tile rows of the mosaic (rows × columns ≤ 400).
        public var rows: Int
        /// Tile columns of the mosaic.
        public var columns: Int
        /// Side of each square tile in pixels (64…8192).
        public var tileSize: Int
        /// Pixels shared by neighbouring tiles.
        public var overlap: Int
        /// Seed of every random choice: the same options give the same pixels everywhere.
        public var seed: UInt64
        /// Film only, or film with grid bars (default).
        public var kind: Kind
        /// Mean number of particles per tile (each kind gets a share).
        public var particlesPerTile: Double
        /// Electrons per pixel through bare film at the beam centre.
        public var dose: Double
        /// Physical pixel size in nm (written into the truth and the TIFFs' metadata).
        public var pixelSize: Double
        /// Kind `gridbars`: fraction of the mosaic the bars cover, 0.05…0.9 — a square mesh of
        /// pitch ``barPitch`` whose bars are wide enough for this coverage. nil: the classic layout
        /// (a slanted bar along the left side and one along the bottom, ~25 % of the field).
        public var barCoverage: Double?
        /// Kind `gridbars` with ``barCoverage``: the mesh's rotation in degrees (0 = bars along the
        /// rows and columns).
        public var barAngle: Double
        /// Kind `gridbars` with ``barCoverage``: distance between neighbouring bars, as a fraction of
        /// the mosaic's shorter side (0.1…2).
        public var barPitch: Double
        /// Tile-to-tile exposure differences: the tiles' doses are multiplied by gains evenly spaced
        /// over `1 − exposureSpread … 1 + exposureSpread`, in a seeded order (0…0.9; 0 = none).
        public var exposureSpread: Double

        /// Options; the defaults give 2 × 3 tiles of 1024 pixels with grid bars and 10 particles per tile;
        /// ``validate()`` checks them (``SyntheticTileSet/generate(_:progress:)`` calls it).
        public init(rows: Int = 2, columns: Int = 3, tileSize: Int = 1024, overlap: Int = 48, seed: UInt64 = 1,
                    kind: Kind = .gridbars, particlesPerTile: Double = 10, dose: Double = 250, pixelSize: Double = 5,
                    barCoverage: Double? = nil, barAngle: Double = 0, barPitch: Double = 0.5, exposureSpread: Double = 0) {
            self.rows = rows; self.columns = columns; self.tileSize = tileSize; self.overlap = overlap
            self.seed = seed; self.kind = kind; self.particlesPerTile = particlesPerTile; self.dose = dose
            self.pixelSize = pixelSize; self.barCoverage = barCoverage; self.barAngle = barAngle; self.barPitch = barPitch
            self.exposureSpread = exposureSpread
        }

        /// Checks the parameters.
        /// - Throws: ``SampleError`` naming the option and why.
        public func validate() throws {
            guard rows >= 1, columns >= 1, rows * columns <= 400 else { throw SampleError.invalidOption(field: rows >= 1 && rows <= 400 ? "columns" : "rows", value: "\(rows >= 1 && rows <= 400 ? columns : rows)", reason: "need 1…400 tiles in total, got \(rows)x\(columns)") }
            guard tileSize >= 64, tileSize <= 8192 else { throw SampleError.invalidOption(field: "tileSize", value: "\(tileSize)", reason: "must be 64…8192 pixels") }
            guard overlap >= 0, overlap < tileSize / 2 else { throw SampleError.invalidOption(field: "overlap", value: "\(overlap)", reason: "must be 0…\(tileSize / 2 - 1) pixels") }
            guard particlesPerTile >= 0, particlesPerTile <= 500 else { throw SampleError.invalidOption(field: "particlesPerTile", value: "\(particlesPerTile)", reason: "must be 0…500 per tile") }
            guard dose > 0, dose <= 100_000 else { throw SampleError.invalidOption(field: "dose", value: "\(dose)", reason: "must be in (0, 100000] electrons per pixel") }
            if let barCoverage {
                guard barCoverage >= 0.05, barCoverage <= 0.9 else {
                    throw SampleError.invalidOption(field: "barCoverage", value: "\(barCoverage)", reason: "must be 0.05…0.9 (fraction of the mosaic covered by grid bars)")
                }
                guard kind == .gridbars else { throw SampleError.invalidOption(field: "barCoverage", value: "\(barCoverage)", reason: "needs kind gridbars (kind is \(kind.rawValue))") }
            }
            guard barAngle.isFinite else { throw SampleError.invalidOption(field: "barAngle", value: "\(barAngle)", reason: "must be a finite angle in degrees") }
            guard barPitch >= 0.1, barPitch <= 2 else {
                throw SampleError.invalidOption(field: "barPitch", value: "\(barPitch)", reason: "must be 0.1…2 (fraction of the mosaic's shorter side)")
            }
            guard exposureSpread >= 0, exposureSpread <= 0.9 else {
                throw SampleError.invalidOption(field: "exposureSpread", value: "\(exposureSpread)", reason: "must be 0…0.9 (tile gains 1 − spread … 1 + spread)")
            }
        }
    }

    /// One particle of the ground truth, in mosaic pixel coordinates.
    public struct Particle: Sendable, Codable, Equatable {
        /// The particle's kind: a flake of clustered grains, a thin rod (fibre) or a faint blob.
        public enum Shape: String, Sendable, Codable { case flake, rod, blob }
        /// Which kind of particle it is.
        public var shape: Shape
        /// Centre column in mosaic pixels.
        public var x: Double
        /// Centre row in mosaic pixels.
        public var y: Double
        /// Diameter (flakes, blobs) or length (rods), in pixels.
        public var size: Double
        /// Peak absorbance (higher = darker).
        public var absorbance: Double
        /// Largest distance from the centre (x, y) at which the particle adds absorbance
        /// (flakes: the farthest grain's edge; rods: half the length plus half the thickness and
        /// the soft edge; blobs: where the mask threshold is crossed), in pixels.
        public var reach: Double

        /// A particle of the truth list.
        public init(shape: Shape, x: Double, y: Double, size: Double, absorbance: Double, reach: Double) {
            self.shape = shape; self.x = x; self.y = y; self.size = size; self.absorbance = absorbance; self.reach = reach
        }
    }

    /// One tile of the set.
    public struct Tile: Sendable {
        /// 1-based mosaic position.
        public var row: Int
        /// 1-based mosaic column.
        public var column: Int
        /// Top-left corner in mosaic pixels.
        public var x: Int
        /// Top row in mosaic pixels.
        public var y: Int
        /// The tile as recorded: 16-bit detector values.
        public var image: Image<UInt16>
        /// 255 where a particle is, else 0.
        public var particleMask: Image<UInt8>
        /// 255 on grid bars, else 0.
        public var barMask: Image<UInt8>
        /// The factor this tile's dose was multiplied by (``Options/exposureSpread``; 1 = none).
        public var exposure: Double = 1
        /// `Tile_RRR-CCC` (1-based, zero-padded).
        public var name: String {
            func three(_ v: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, 3 - s.count)) + s }
            return "Tile_\(three(row))-\(three(column))"
        }
    }

    /// Absorbance from particles above which a pixel is in the particle mask: 0.15 dims the
    /// beam by 14 %, about twice the shot noise of one pixel at the default dose — where a
    /// person starts to see the particle, so halos of faint blobs do not count.
    public static let particleMaskThreshold = 0.15

    /// The options the set was generated with.
    public let options: Options
    /// The tiles, row-major (row 1 first).
    public let tiles: [Tile]
    /// Every particle placed, in mosaic pixel coordinates.
    public let particles: [Particle]
    /// Width of the simulated field in pixels: columns × (tileSize − overlap) + overlap.
    public let mosaicWidth: Int
    /// Height of the simulated field in pixels: rows × (tileSize − overlap) + overlap.
    public let mosaicHeight: Int

    /// Generates a tile set. Same options → same pixels on every machine and thread count.
    /// - Throws: ``SampleError`` for invalid options.
    /// - Complexity: O(mosaic pixels) for film, bars and imaging (a fixed number of passes), plus each
    ///   particle over the square of its reach; memory a few Float fields of the mosaic's size.
    public static func generate(_ options: Options, progress: CleaveCore.Progress = .silent) throws -> SyntheticTileSet {
        try options.validate()
        let step = options.tileSize - options.overlap
        let width = step * options.columns + options.overlap
        let height = step * options.rows + options.overlap
        var random = SeededGenerator(seed: options.seed)
        progress.report(0, 4, "film")
        let film = SampleField.film(width: width, height: height, random: &random)
        progress.report(1, 4, "particles")
        var particleField = [Float](repeating: 0, count: width * height)
        let particles = SampleField.particles(into: &particleField, width: width, height: height,
                                              count: Int((options.particlesPerTile * Double(options.rows * options.columns)).rounded()),
                                              random: &random)
        progress.report(2, 4, "grid bars")
        let bars: [Bool]
        if options.kind == .gridbars, let coverage = options.barCoverage {
            bars = SampleField.gridMesh(width: width, height: height, coverage: coverage, angle: options.barAngle,
                                        pitch: options.barPitch * Double(min(width, height)), random: &random)
        } else if options.kind == .gridbars {
            bars = SampleField.gridBars(width: width, height: height, random: &random)
        } else {
            bars = [Bool](repeating: false, count: width * height)
        }
        let exposures = SampleField.exposures(count: options.rows * options.columns, spread: options.exposureSpread, seed: options.seed)
        progress.report(3, 4, "tiles")
        var tiles: [Tile] = []
        for r in 0..<options.rows {
            for c in 0..<options.columns {
                let x0 = c * step, y0 = r * step
                var tileRandom = SeededGenerator.stream(seed: options.seed, index: r * options.columns + c)
                tiles.append(SampleField.image(tileAt: x0, y0, size: options.tileSize, row: r + 1, column: c + 1,
                                               mosaicWidth: width, film: film, particles: particleField, bars: bars,
                                               dose: options.dose * exposures[r * options.columns + c], pixelSize: options.pixelSize,
                                               random: &tileRandom))
                tiles[tiles.count - 1].exposure = exposures[r * options.columns + c]
            }
        }
        progress.report(4, 4, "tiles")
        return SyntheticTileSet(options: options, tiles: tiles, particles: particles, mosaicWidth: width, mosaicHeight: height)
    }
}
